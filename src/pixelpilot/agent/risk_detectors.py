"""The named checks a risk rule's `detector` may use: what a regular expression cannot express
(a card checksum, an IBAN checksum, the shape of a password, the randomness of a token, the
origin of a URL). Each takes the action's text (typed text, or open_app's name) and the
`RiskContext`, and returns a detail safe to show a person (never the text itself), or None.

May import: the standard library only (`RiskContext` is named for type checking).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pixelpilot.agent.risk import RiskContext

__all__ = ["DETECTORS", "Detector", "origin"]


def origin(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL (default ports dropped), else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


_CARD = re.compile(r"(?<!\d)(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![ -]?\d)")
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[0478]|35|6(?:011|2|4[4-9]|5)|5[06-9]|6")


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_number(text: str, context: RiskContext) -> str | None:
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _CARD_PREFIX.match(digits) and len(set(digits)) > 1 and _luhn(digits):
            return "the digits pass the card checksum"
    return None


_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", re.IGNORECASE)


def _iban(text: str, context: RiskContext) -> str | None:
    for match in _IBAN.finditer(text):
        code = match.group().replace(" ", "").upper()
        rearranged = code[4:] + code[:4]
        number = "".join(str(int(c, 36)) for c in rearranged)
        if int(number) % 97 == 1:
            return "the IBAN checksum is valid"
    return None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_FILE_NAME = re.compile(r"[\w.-]+\.[A-Za-z][A-Za-z0-9]{1,4}")
_WEAK_SYMBOLS = frozenset("._-")


_PLACEHOLDER = re.compile(r"<secret:[^<>\s]+>")


def _single_word(text: str) -> str | None:
    """The text as one word, or None: several words, a URL, or a `<secret:NAME>` placeholder
    (whose risk is its binding's business, not its shape's)."""
    word = text.strip()
    if not word or any(c.isspace() for c in word) or "://" in word:
        return None
    return None if _PLACEHOLDER.fullmatch(word) else word


def _password_like(text: str, context: RiskContext) -> str | None:
    word = _single_word(text)
    if word is None or not 8 <= len(word) <= 128 or _EMAIL.fullmatch(word):
        return None
    if "/" in word or "\\" in word or _FILE_NAME.fullmatch(word):
        return None
    if word.startswith("=") or ("(" in word and ")" in word):
        return None  # a spreadsheet formula or a call in code, not a password
    symbol = any(not c.isalnum() and c not in _WEAK_SYMBOLS for c in word)
    classes = sum(
        (
            any(c.islower() for c in word),
            any(c.isupper() for c in word),
            any(c.isdigit() for c in word),
            symbol,
        )
    )
    letters = sum(c.isalpha() for c in word)
    if classes >= 3 and letters >= 3 and (symbol or len(word) >= 12):
        return "letters, digits and symbols mixed"
    return None


def _token_like(text: str, context: RiskContext) -> str | None:
    word = _single_word(text)
    if word is None or len(word) < 24 or word.startswith("/"):
        return None
    if re.fullmatch(r"[0-9a-fA-F-]+", word) or _EMAIL.fullmatch(word):
        return None
    if not (any(c.isalpha() for c in word) and any(c.isdigit() for c in word)):
        return None
    counts = Counter(word)
    entropy = -sum(n / len(word) * math.log2(n / len(word)) for n in counts.values())
    return f"{len(word)} random-looking characters" if entropy >= 4.0 else None


def _off_origin(text: str, context: RiskContext) -> str | None:
    name = text.strip()
    if not re.match(r"[a-zA-Z][\w+.-]*://", name):
        return None  # an app name, a relative path or a sandbox: page
    target = origin(name)
    # The page the agent is on is where the task is (the browser keeps it on allowed origins).
    allowed = {o for o in map(origin, (*context.allowed_origins, context.url or "")) if o}
    if target is not None and target in allowed:
        return None
    shown = ", ".join(sorted(allowed)) or "none"
    return f"{target or name.split('://')[0] + ' URL'} is not among the allowed origins ({shown})"


Detector = Callable[[str, "RiskContext"], "str | None"]
DETECTORS: dict[str, Detector] = {
    "card_number": _card_number,
    "iban": _iban,
    "password_like": _password_like,
    "token_like": _token_like,
    "off_origin": _off_origin,
}
"""The named checks a rule's `detector` may use: (subject text, context) -> a detail or None."""
