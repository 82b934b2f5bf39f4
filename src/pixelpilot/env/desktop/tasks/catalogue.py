"""The desktop tasks: each names the files it puts in a fresh home folder, the applications it
starts there, the goal, and its judge. Applications come from Debian: mousepad (text editor),
galculator (calculator), pcmanfm (file manager), gnumeric (spreadsheet) and xterm (terminal).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixelpilot.env.desktop.tasks.judges import (
    Judge,
    all_of,
    answer_number,
    csv_rows,
    file_lines,
    file_text,
    gsetting,
    paths,
)
from pixelpilot.errors import ConfigError

GREETING = "Grüße aus Zürich: 3 × 4 = 12 ✓"
CODE = "ZX-4821-QP"
LOG_LINES = 37


@dataclass(frozen=True)
class DesktopTask:
    """One task of the `desktop` suite.

    Attributes:
        name: the short name (the suite adds "desktop:").
        goal: the instruction given to the policy.
        judge: reads the home folder (and the answer) after the episode.
        files: relative path -> text written into the fresh home before the apps start.
        apps: commands started at reset, in order, each waited for until its window is focused;
            "{home}" in a word is replaced by the home folder.
        cwd: the folder (relative to home) the apps start in.
        needs: the programs the task uses (checked before it starts, for a one-line error).
        safety: the task's `[safety]` allowances (see `pixelpilot.actions.Task.safety`): what
            the task itself asks for that the risk rules would stop, and only where it is asked.
    """

    name: str
    goal: str
    judge: Judge
    files: Mapping[str, str] = field(default_factory=dict)
    apps: tuple[tuple[str, ...], ...] = ()
    cwd: str = "Documents"
    needs: tuple[str, ...] = ()
    safety: Mapping[str, Any] | None = None

    def check_ready(self, *, private_display: bool) -> None:
        """Raise ConfigError (one line, with the fix) when the task cannot start here."""
        if not private_display:
            raise ConfigError(
                f"task desktop:{self.name} runs on a private display only (it starts its own "
                "applications in a fresh home): add --virtual-display 1280x800"
            )
        missing = [program for program in self.needs if shutil.which(program) is None]
        if missing:
            raise ConfigError(
                f"task desktop:{self.name} needs {', '.join(missing)}; install with: "
                f"apt-get install {' '.join(missing)}"
            )

    def prepare(self, home: Path) -> list[tuple[str, ...]]:
        """Write the task's files under `home` and return its commands with {home} filled."""
        for folder in ("Documents", ".config", ".local/share", ".cache"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        for relative, text in self.files.items():
            path = home / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return [tuple(word.replace("{home}", str(home)) for word in app) for app in self.apps]


DELETE_IN_FILE_MANAGER = {
    "allow": [
        {
            "id": "desktop-task-home-delete",
            "rules": ["file-manager-delete"],
            "platforms": ["desktop"],
            "app": r"\(Pcmanfm\)$",
            "reason": "the task deletes a file of its own throwaway home in the file manager",
        }
    ]
}

MOUSEPAD = ("mousepad",)
XTERM = ("xterm", "-fa", "Monospace", "-fs", "12", "-geometry", "90x24")

TASKS: tuple[DesktopTask, ...] = (
    DesktopTask(
        "editor-write-unicode",
        f"In the Mousepad text editor, write exactly '{GREETING}' and save it as greeting.txt "
        "in the Documents folder.",
        file_text("Documents/greeting.txt", GREETING),
        apps=(MOUSEPAD,),
        needs=("mousepad",),
    ),
    DesktopTask(
        "editor-shopping-list",
        "In Mousepad, write a shopping list with eggs, flour and sugar, one item per line, "
        "and save it as list.txt in the Documents folder.",
        file_lines("Documents/list.txt", ["eggs", "flour", "sugar"]),
        apps=(MOUSEPAD,),
        needs=("mousepad",),
    ),
    DesktopTask(
        "editor-append-line",
        "todo.txt is open in Mousepad: add the line 'water the plants' at its end and save it.",
        file_lines("Documents/todo.txt", ["buy milk", "call Ada", "water the plants"]),
        files={"Documents/todo.txt": "buy milk\ncall Ada\n"},
        apps=(("mousepad", "{home}/Documents/todo.txt"),),
        needs=("mousepad",),
    ),
    DesktopTask(
        "editor-line-numbers",
        "Turn on line numbers in Mousepad (a setting in its View menu).",
        gsetting("org/xfce/mousepad/preferences/view", "show-line-numbers", "true"),
        apps=(MOUSEPAD,),
        needs=("mousepad",),
    ),
    DesktopTask(
        "calc-multiply",
        "Use the calculator to compute 1234 × 5678 and answer with the result.",
        answer_number(1234 * 5678),
        apps=(("galculator",),),
        needs=("galculator",),
    ),
    DesktopTask(
        "calc-open-app",
        "Open the calculator application, compute 256 × 256 with it and answer with the result.",
        answer_number(256 * 256),
        needs=("galculator",),
    ),
    DesktopTask(
        "files-rename",
        "In the file manager, rename draft.txt to report.txt.",
        all_of(
            paths(present=["Documents/report.txt"], absent=["Documents/draft.txt"]),
            file_text("Documents/report.txt", "quarterly figures"),
        ),
        files={"Documents/draft.txt": "quarterly figures\n"},
        apps=(("pcmanfm", "{home}/Documents"),),
        needs=("pcmanfm",),
    ),
    DesktopTask(
        "files-delete",
        "In the file manager, delete old-notes.txt and keep the other file.",
        paths(present=["Documents/keep.txt"], absent=["Documents/old-notes.txt"]),
        files={"Documents/keep.txt": "keep me\n", "Documents/old-notes.txt": "obsolete\n"},
        apps=(("pcmanfm", "{home}/Documents"),),
        needs=("pcmanfm",),
        safety=DELETE_IN_FILE_MANAGER,
    ),
    DesktopTask(
        "files-new-folder",
        "In the file manager, create a folder named 'Invoices 2026' in Documents.",
        paths(present=["Documents/Invoices 2026"], folders=True),
        apps=(("pcmanfm", "{home}/Documents"),),
        needs=("pcmanfm",),
    ),
    DesktopTask(
        "terminal-write-file",
        "In the terminal, create the file notes/hello.txt in the home folder containing the "
        "line 'hello from the terminal'.",
        file_text("notes/hello.txt", "hello from the terminal"),
        apps=(XTERM,),
        cwd="",
        needs=("xterm",),
    ),
    DesktopTask(
        "terminal-count-lines",
        "Using the terminal, count the lines of data/log.txt in the home folder and answer "
        "with the number.",
        answer_number(LOG_LINES),
        files={"data/log.txt": "".join(f"event {i}\n" for i in range(LOG_LINES))},
        apps=(XTERM,),
        cwd="",
        needs=("xterm",),
    ),
    DesktopTask(
        "sheet-sum",
        "sales.csv is open in Gnumeric: answer with the total of its Amount column.",
        answer_number(1234.5),
        files={
            "Documents/sales.csv": "Month,Amount\nJan,200\nFeb,310.5\nMar,99\nApr,625\n",
        },
        apps=(("gnumeric", "{home}/Documents/sales.csv"),),
        needs=("gnumeric",),
    ),
    DesktopTask(
        "sheet-csv",
        "In Gnumeric, fill in a table with the header Item, Qty and the rows apple, 3 and "
        "pear, 7, then export it as the CSV file stock.csv in the Documents folder.",
        csv_rows("Documents/stock.csv", [["Item", "Qty"], ["apple", "3"], ["pear", "7"]]),
        apps=(("gnumeric",),),
        needs=("gnumeric",),
    ),
    DesktopTask(
        "copy-code-to-terminal",
        "Copy the confirmation code shown in Mousepad into a new file code.txt in the home "
        "folder, using the terminal.",
        file_text("code.txt", CODE),
        files={"Documents/code-message.txt": CODE},
        apps=(("mousepad", "{home}/Documents/code-message.txt"), XTERM),
        cwd="",
        needs=("mousepad", "xterm"),
    ),
)
