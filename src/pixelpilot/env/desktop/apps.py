"""Resolving an app name ("Mousepad", "text editor", "galculator") to a command to run.

Candidates are the installed applications (`.desktop` entries under $XDG_DATA_DIRS and
$XDG_DATA_HOME: their Name, GenericName and the program of their Exec line) and the user's own
name -> command map, which wins. A name is matched exactly, then ignoring case, then fuzzily
(difflib similarity with spaces and punctuation removed); a fuzzy match must clear `cutoff` and
must not tie with another command. Otherwise the name is refused with the closest candidates.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pixelpilot.errors import ActionError

FIELD_CODES = re.compile(r"%[fFuUdDnNickvm]")
"""Exec-line field codes (desktop entry spec): file/URL arguments and icons, dropped here
because open_app starts an application without a document."""


@dataclass(frozen=True)
class AppMatch:
    """The resolved command (argv), the label it was found under, and how it matched."""

    command: tuple[str, ...]
    label: str
    how: str


def application_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The `applications` folders of $XDG_DATA_HOME and $XDG_DATA_DIRS, in priority order."""
    env = os.environ if environ is None else environ
    home = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/share")
    dirs = env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(d) / "applications" for d in [home, *dirs.split(":")] if d]


def exec_command(line: str) -> tuple[str, ...]:
    """The argv of an Exec line, without field codes ("%%" stays a literal "%").

    Raises:
        ValueError: the line is not valid shell-like quoting.
    """
    words = [FIELD_CODES.sub("", word).replace("%%", "%") for word in shlex.split(line)]
    return tuple(word for word in words if word)


def installed_apps(dirs: Iterable[Path]) -> dict[str, tuple[str, ...]]:
    """Label -> argv for every launchable application entry (Type=Application, not hidden,
    with an Exec line); the first folder that has a label wins."""
    found: dict[str, tuple[str, ...]] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.desktop")) if folder.is_dir() else []:
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            parser.optionxform = str  # type: ignore[assignment,method-assign]
            try:
                parser.read(path, encoding="utf-8")
                entry = parser["Desktop Entry"]
                if entry.get("Type") != "Application" or entry.get("Hidden") == "true":
                    continue
                command = exec_command(entry.get("Exec", ""))
            except (configparser.Error, KeyError, ValueError, UnicodeDecodeError):
                continue
            if not command:
                continue
            labels = [entry.get("Name"), entry.get("GenericName"), Path(command[0]).name]
            for label in labels:
                if label and label not in found:
                    found[label] = command
    return found


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def resolve_app(
    name: str,
    installed: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str] | None = None,
    *,
    cutoff: float = 0.75,
) -> AppMatch:
    """Find the command meant by `name`.

    Args:
        name: what the model or user wrote.
        installed: label -> argv of the installed applications (`installed_apps`).
        names: extra label -> command line entries; they win over the installed ones.
        cutoff: the similarity (0..1) a fuzzy match needs.

    Raises:
        ActionError: nothing matches well enough, or two commands match equally well; the
            message lists the closest candidates.
    """
    candidates = dict(installed)
    for label, line in (names or {}).items():
        candidates[label] = tuple(shlex.split(line))
    wanted = name.strip()
    if wanted in candidates:
        return AppMatch(candidates[wanted], wanted, "exact name")
    folded = {label.casefold(): label for label in candidates}
    if wanted.casefold() in folded:
        label = folded[wanted.casefold()]
        return AppMatch(candidates[label], label, "name, ignoring case")
    key = _squash(wanted)
    scored = sorted(
        (
            (difflib.SequenceMatcher(None, key, _squash(label)).ratio(), label)
            for label in candidates
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    best = [(score, label) for score, label in scored if score >= cutoff]
    if best:
        top_score, top = best[0]
        rivals = {candidates[label] for score, label in best if score == top_score}
        if len(rivals) == 1:
            return AppMatch(candidates[top], top, f"fuzzy match {top!r} ({top_score:.2f})")
        labels = sorted(label for score, label in best if score == top_score)
        raise ActionError(
            f"app name {name!r} is ambiguous: it matches {', '.join(labels)} equally; "
            "use the exact name"
        )
    close = [label for _, label in scored[:3]]
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ActionError(
        f"no installed application matches {name!r}{hint}; name one from its .desktop entry "
        "or add it to the desktop option apps"
    )


def choose_app(
    name: str,
    environ: Mapping[str, str],
    names: Mapping[str, str],
    allowed: Sequence[str] | None,
    *,
    cutoff: float,
) -> AppMatch:
    """Resolve `name` among the applications installed for `environ` (its XDG folders) and
    `names`, then apply the allow-list: with `allowed` given, the name, the matched label, the
    program or its path must be in it.

    Raises:
        ActionError: nothing matches (see `resolve_app`), or the match is not allowed.
    """
    match = resolve_app(name, installed_apps(application_dirs(environ)), names, cutoff=cutoff)
    known = {name, match.label, match.command[0], Path(match.command[0]).name}
    if allowed is not None and not known & set(allowed):
        raise ActionError(
            f"open_app({name!r}) refused: {match.label} ({shlex.join(match.command)}) is not "
            f"in the desktop option allowed_apps ({', '.join(allowed) or 'empty'})"
        )
    return match
