"""The default risk rules, as data: one dict per rule, in the same shape as a `[[safety.rules]]`
entry of a config file (see `pixelpilot.agent.risk` for the format).

The rules live in a Python module rather than a JSON file so that the regular expressions stay
readable as raw strings; nothing here is code, and `RiskRules.default()` validates every entry.
Rules are tried in order; the most severe match wins (the first one among equals).
"""

from __future__ import annotations

from typing import Any

# Where a shell command word may start: the start of a line, after a separator or a
# subshell opener, or after whitespace.
_CMD = r"(?:^|[\s;&|(`])"
# Where a command must start to count as a command (not a word in prose): the start of a line,
# after a separator, or after sudo/doas.
_LEAD = r"(?:^|[;&|(`]|\bsudo|\bdoas)[ \t]*"
# A destructive target: the root, the home directory, or a top-level system directory.
_ROOT_TARGET = (
    r"[\"']?(?:/|/\*|~/?|~/\*|\$\{?HOME\}?/?\*?|"
    r"/(?:bin|boot|dev|etc|home|lib|lib64|opt|root|sbin|srv|sys|usr|var)/?\*?)[\"']?"
    r"(?=$|[\s;&|)])"
)
_SHELLS = r"(?:ba|z|da|k|fi|tc|c)?sh|python[23]?|perl|ruby|node"
_FILE_MANAGERS = (
    r"(?i)\b(?:nautilus|files|dolphin|thunar|pcmanfm(?:-qt)?|nemo|caja|finder|file explorer|"
    r"file manager|krusader|double commander|konqueror|com\.android\.documentsui|"
    r"com\.google\.android\.apps\.nbu\.files|com\.sec\.android\.app\.myfiles)\b"
)

DEFAULT_RULES: list[dict[str, Any]] = [
    # -- the worst: never run -------------------------------------------------------------------
    {
        "id": "shell-rm-root",
        "level": "blocked",
        "reason": "deletes the root, the home directory or a system directory",
        "actions": ["type"],
        "text": _CMD + r"rm\s+(?:-\S*\s+)*" + _ROOT_TARGET,
    },
    {
        "id": "shell-no-preserve-root",
        "level": "blocked",
        "reason": "deletes files with the root-protection of rm switched off",
        "actions": ["type"],
        "text": r"--no-preserve-root\b",
    },
    {
        "id": "shell-fork-bomb",
        "level": "blocked",
        "reason": "a fork bomb: starts processes until the machine stops responding",
        "actions": ["type"],
        "text": r"(?<![\w:.])(?P<f>[\w:.]{1,64})\s*\(\)\s*\{\s*(?P=f)\s*\|\s*(?P=f)\s*&\s*\}|"
        r"%0\s*\|\s*%0|\bfork\s+while\s+fork\b",
    },
    {
        "id": "shell-mkfs",
        "level": "blocked",
        "reason": "formats or wipes a disk",
        "actions": ["type"],
        "text": r"\b(?:mkfs(?:\.\w+)?|mke2fs|mkswap|wipefs)\b|(?i:\bformat(?:\.com)?\s+[a-z]:)",
    },
    {
        "id": "shell-write-device",
        "level": "blocked",
        "reason": "writes raw data over a disk device",
        "actions": ["type"],
        "text": r"\bof=/dev/(?!null\b|zero\b|stdout\b|stderr\b)\w|"
        r">\s*/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk)\w*|\bshred\b[^\n]{0,500}\s/dev/\w",
    },
    {
        "id": "shell-pipe-to-root-shell",
        "level": "blocked",
        "reason": "downloads a script and runs it as root",
        "actions": ["type"],
        "text": r"\b(?:curl|wget|fetch)\b[^\n]{0,500}\|\s*sudo\s+(?:-\S+\s+)*(?:env\s+)?(?:"
        + _SHELLS
        + r")\b|\bsudo\s+(?:-\S+\s+)*(?:"
        + _SHELLS
        + r")\s+(?:-c\s+)?[\"']?(?:<\(|\$\()\s*(?:curl|wget)\b",
    },
    {
        "id": "shell-chmod-root",
        "level": "blocked",
        "reason": "opens up or hands over the permissions of the whole file system",
        "actions": ["type"],
        "text": r"\bch(?:mod|own|grp)\s+(?:[^\n;&|]{0,200}\s)?-[a-zA-Z]*R[^\n;&|]{0,200}"
        r"\s/\*?(?=$|[\s;&|])",
    },
    {
        "id": "windows-delete-drive",
        "level": "blocked",
        "reason": "deletes a whole drive",
        "actions": ["type"],
        "text": r"(?i:\b(?:rd|rmdir|del|erase)\s+(?:/\w\s+)*[a-z]:\\?\*?(?=$|\s)|"
        r"\bremove-item\b[^\n]{0,500}-recurse[^\n]{0,500}\s[a-z]:\\?\*?(?=$|\s))",
    },
    # -- shell commands: consequential, ask first ----------------------------------------------
    {
        "id": "shell-rm",
        "level": "high",
        "reason": "deletes files",
        "actions": ["type"],
        "text": _LEAD
        + r"(?:rm|srm|shred|unlink)\s+\S|\bfind\b[^\n]{0,500}\s-delete\b|"
        + _CMD
        + r"rm\s+-[a-zA-Z]*[rRf]|(?i:\b(?:del|erase|rd|rmdir)\s+/[sfqp]\b|\bremove-item\s+\S)",
    },
    {
        "id": "shell-pipe-to-shell",
        "level": "high",
        "reason": "runs a downloaded or decoded script without showing it",
        "actions": ["type"],
        "text": r"\|\s*(?:sudo\s+)?(?:" + _SHELLS + r")\s*(?:-\s*)?(?=$|[;&)\s])|"
        r"(?:" + _SHELLS + r")\s+(?:-c\s+)?[\"']?(?:<\(|\$\()\s*(?:curl|wget)\b|"
        r"\beval\s+[\"']?\$\(\s*(?:curl|wget)\b|(?i:\b(?:iex|invoke-expression)\b)",
    },
    {
        "id": "shell-dd",
        "level": "high",
        "reason": "writes raw data with dd",
        "actions": ["type"],
        "text": r"\bdd\b[^\n]{0,500}\bof=",
    },
    {
        "id": "shell-chmod-open",
        "level": "high",
        "reason": "changes permissions or owners recursively, or makes files writable by all",
        "actions": ["type"],
        "text": r"\bchmod\s+(?:-\S+\s+)*(?:0?777|a\+rwx|o\+w)\b|"
        r"\bch(?:mod|own|grp)\s+(?:[^\n;&|]{0,200}\s)?-[a-zA-Z]*R\b",
    },
    {
        "id": "shell-power",
        "level": "high",
        "reason": "shuts down, reboots, suspends or logs out of the machine",
        "actions": ["type"],
        "text": _LEAD + r"(?:shutdown|reboot|poweroff|halt|init\s+[06]|"
        r"gnome-session-quit|(?:systemctl|loginctl)\s+(?:poweroff|reboot|halt|suspend|"
        r"hibernate|kexec|terminate-\w+|kill-\w+))\b|(?i:\bshutdown(?:\.exe)?\s+/[srpl]\b)",
    },
    {
        "id": "shell-kill-all",
        "level": "high",
        "reason": "kills every process of the user or the system",
        "actions": ["type"],
        "text": r"\bkill\s+(?:-\S+\s+)*-1\b|\bkillall5\b|\bpkill\s+(?:-\S+\s+)*-u\b",
    },
    {
        "id": "shell-disk-partition",
        "level": "high",
        "reason": "changes disk partitions",
        "actions": ["type"],
        "text": _LEAD + r"(?:fdisk|gdisk|sfdisk|cfdisk|parted|diskpart)\b",
    },
    {
        "id": "shell-system-config",
        "level": "high",
        "reason": "changes users, passwords, the firewall or system files",
        "actions": ["type"],
        "text": _LEAD + r"(?:userdel|useradd|usermod|passwd|chpasswd|visudo|setenforce\s+0|"
        r"iptables\s+-[FX]|ufw\s+disable|crontab\s+-r)\b|>\s*/etc/\w|\btee\s+(?:-a\s+)?/etc/\w",
    },
    {
        "id": "shell-reverse-shell",
        "level": "high",
        "reason": "opens a network shell on this machine",
        "actions": ["type"],
        "text": r"/dev/tcp/|\b(?:nc|ncat|netcat)\b[^\n]{0,500}\s-[a-z]*[ec]\s",
    },
    {
        "id": "shell-destroy-history",
        "level": "high",
        "reason": "throws away version-control history or uncommitted work",
        "actions": ["type"],
        "text": r"\bgit\s+push\b[^\n]{0,500}\s(?:-f|--force(?:-with-lease)?)\b|"
        r"\bgit\s+reset\s+--hard\b|\bgit\s+clean\s+-[a-zA-Z]*f",
    },
    {
        "id": "sql-destructive",
        "level": "high",
        "reason": "drops or empties a database table",
        "actions": ["type"],
        "text": r"(?i)\b(?:drop\s+(?:table|database|schema)|truncate\s+table)\b|"
        r"(?i:\bdelete\s+from\s+[\w.\"`]+[ \t]*;?[ \t]*$)",
    },
    {
        "id": "android-factory-reset",
        "level": "high",
        "reason": "factory-resets or wipes the device",
        "actions": ["type"],
        "text": r"android\.intent\.action\.(?:MASTER_CLEAR|FACTORY_RESET)|\brecovery\s+--wipe",
    },
    # -- installs ------------------------------------------------------------------------------
    {
        "id": "install-package",
        "level": "high",
        "reason": "installs or removes software",
        "actions": ["type"],
        "text": r"\b(?:apt(?:-get)?|aptitude|dnf|yum|zypper|snap|flatpak|brew|apk|choco|winget|"
        r"scoop|port)\s+(?:-\S+\s+)*(?:install|reinstall|add|remove|purge|uninstall|erase)\b|"
        r"\bpacman\s+-[SRU]|\bdpkg\s+(?:-\S+\s+)*-(?:i|r|P)\b|\brpm\s+-[iUe]|"
        r"\b(?:pm|adb|cmd\s+package)\s+(?:-\S+\s+)*(?:install|uninstall)\b|"
        r"\bpip[23]?\s+install\b|\bnpm\s+(?:i|install)\s+(?:\S+\s+)*(?:-g|--global)\b",
    },
    {
        "id": "install-from-url",
        "level": "high",
        "reason": "opens an app-store page or an installer file",
        "actions": ["open_app"],
        "text": r"(?i)\A\s*market:|play\.google\.com/store/apps|"
        r"\.(?:apk|xapk|deb|rpm|msi|exe|dmg|pkg|appimage)(?:[?#]|\s*\Z)",
    },
    {
        "id": "android-play-store-tap",
        "level": "high",
        "reason": "a tap in the Play Store can install or buy an app",
        "actions": ["click", "long_press"],
        "platforms": ["android"],
        "app": r"^com\.android\.vending$",
    },
    # -- credentials and payment data -----------------------------------------------------------
    {
        "id": "shell-privileged",
        "level": "high",
        "reason": "runs a command as root (sudo, su, doas, pkexec)",
        "actions": ["type"],
        "text": r"\b(?:sudo|doas|pkexec|runas)\s+\S|(?:^|[;&|(]|\s)su(?:[ \t]+-\w*|[ \t]+root)*"
        r"(?:[ \t]+-c\b|[ \t]*$)",
    },
    {
        "id": "card-number",
        "level": "high",
        "reason": "types what looks like a payment card number",
        "actions": ["type"],
        "detector": "card_number",
    },
    {
        "id": "card-security-code",
        "level": "high",
        "reason": "types what looks like a card security code",
        "actions": ["type"],
        "text": r"(?i)\b(?:cvv2?|cvc2?|csc|security\s+code)\b\W{0,3}\d{3,4}\b",
    },
    {
        "id": "card-security-code-on-payment-page",
        "level": "high",
        "reason": "types a 3- or 4-digit code on a payment page (a card security code?)",
        "actions": ["type"],
        "text": r"\A\s*\d{3,4}\s*\Z",
        "url": r"(?i)checkout|payment|billing|/pay\b|/card\b",
    },
    {
        "id": "iban",
        "level": "high",
        "reason": "types what looks like a bank account number (IBAN)",
        "actions": ["type"],
        "detector": "iban",
    },
    {
        "id": "us-ssn",
        "level": "high",
        "reason": "types what looks like a US social security number",
        "actions": ["type"],
        "text": r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])",
    },
    {
        "id": "api-key",
        "level": "high",
        "reason": "types what looks like an API key or access token",
        "actions": ["type"],
        "text": r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|"
        r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|glpat-[\w-]{20,}|xox[abposr]-[\w-]{10,}|"
        r"AKIA[0-9A-Z]{16}|AIza[\w-]{35}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36})|"
        r"\beyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+|(?i:\bbearer\s+[\w.~+/-]{20,})|"
        r"(?i:\b(?:aws_secret_access_key|api[_-]?key|secret[_-]?key|access[_-]?token)\s*[:=]\s*\S)",
    },
    {
        "id": "private-key",
        "level": "high",
        "reason": "types a private key",
        "actions": ["type"],
        "text": r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----|\bPuTTY-User-Key-File\b",
    },
    {
        "id": "token-like",
        "level": "high",
        "reason": "types what looks like a secret token",
        "actions": ["type"],
        "detector": "token_like",
    },
    {
        "id": "password-labelled",
        "level": "high",
        "reason": "types a password or PIN",
        "actions": ["type"],
        "text": r"(?i)\b(?:password|passwort|passwd|pwd|passphrase|passcode|pin)\s*[:=]\s*\S",
    },
    {
        "id": "password-like",
        "level": "high",
        "reason": "types what looks like a password",
        "actions": ["type"],
        "detector": "password_like",
    },
    {
        "id": "url-with-password",
        "level": "high",
        "reason": "a URL with a password in it",
        "actions": ["type", "open_app"],
        "text": r"\b[a-z][\w+.-]{0,30}://[^/\s:@]{1,200}:[^/\s@]{1,200}@",
    },
    # -- key chords ----------------------------------------------------------------------------
    {
        "id": "key-close-app",
        "level": "high",
        "reason": "closes or quits the application (unsaved work may be lost)",
        "actions": ["key"],
        "keys": ["alt+f4", "ctrl+q", "super+q", "ctrl+shift+q", "ctrl+shift+w", "super+shift+w"],
    },
    {
        "id": "key-session",
        "level": "high",
        "reason": "locks the screen, logs out or opens the system security screen",
        "actions": ["key"],
        "keys": [
            "ctrl+alt+delete",
            "ctrl+alt+backspace",
            "super+l",
            "ctrl+alt+l",
            "ctrl+super+q",
            "super+shift+q",
            "ctrl+alt+shift+q",
            "super+shift+e",
            "ctrl+alt+end",
        ],
    },
    {
        "id": "key-console-switch",
        "level": "high",
        "reason": "switches to a text console or sends a kernel request (SysRq)",
        "actions": ["key"],
        "keys": [
            *(f"ctrl+alt+f{i}" for i in range(1, 13)),
            *(f"alt+printscreen+{c}" for c in "bcoeikrsu"),
        ],
    },
    {
        "id": "key-power",
        "level": "high",
        "reason": "presses the power or sleep key (turns the screen or the device off)",
        "actions": ["key"],
        "keys": ["power", "sleep", "endcall", "ctrl+power", "super+power", "ctrl+super+power"],
    },
    {
        "id": "file-manager-delete",
        "level": "high",
        "reason": "deletes the selected files in a file manager",
        "actions": ["key"],
        "keys": ["delete", "shift+delete", "super+backspace", "super+delete", "ctrl+delete"],
        "app": _FILE_MANAGERS,
    },
    # -- navigation ----------------------------------------------------------------------------
    {
        "id": "navigate-local-or-script",
        "level": "high",
        "reason": "opens a local file or runs a script through a URL",
        "actions": ["open_app"],
        "text": r"(?i)\A\s*(?:file|javascript|vbscript|chrome|about:debug|intent):",
    },
    {
        "id": "navigate-off-origin",
        "level": "high",
        "reason": "navigates outside the allowed origins",
        "actions": ["open_app"],
        "detector": "off_origin",
    },
]
