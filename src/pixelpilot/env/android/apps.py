"""Resolving an app name ("Settings", "gmail", "com.android.chrome") to an installed package.

Android does not list app labels over ADB without extra tools, so names are matched against a
name map (well-known apps, plus the user's `app_names`) and against the packages themselves:
first exactly, then ignoring case, then fuzzily (difflib similarity of names with spaces and
punctuation removed). A fuzzy match must clear `cutoff` and beat the runner-up for another
package; otherwise the name is refused with the closest candidates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pixelpilot.errors import ActionError

# well-known app names -> candidate packages (the first installed one wins)
KNOWN_APPS: dict[str, tuple[str, ...]] = {
    "Settings": ("com.android.settings",),
    "Chrome": ("com.android.chrome",),
    "Gmail": ("com.google.android.gm",),
    "Maps": ("com.google.android.apps.maps",),
    "Google Maps": ("com.google.android.apps.maps",),
    "YouTube": ("com.google.android.youtube",),
    "Play Store": ("com.android.vending",),
    "Camera": ("com.google.android.GoogleCamera", "com.android.camera2", "com.android.camera"),
    "Clock": ("com.google.android.deskclock", "com.android.deskclock"),
    "Calendar": ("com.google.android.calendar", "com.android.calendar"),
    "Contacts": ("com.google.android.contacts", "com.android.contacts"),
    "Phone": ("com.google.android.dialer", "com.android.dialer"),
    "Messages": ("com.google.android.apps.messaging", "com.android.messaging"),
    "Photos": ("com.google.android.apps.photos",),
    "Gallery": ("com.android.gallery3d", "com.google.android.apps.photos"),
    "Files": ("com.google.android.apps.nbu.files", "com.android.documentsui"),
    "Calculator": ("com.google.android.calculator", "com.android.calculator2"),
    "Google": ("com.google.android.googlequicksearchbox",),
    "Drive": ("com.google.android.apps.docs",),
    "Keep": ("com.google.android.keep",),
    "Keep Notes": ("com.google.android.keep",),
}


@dataclass(frozen=True)
class AppMatch:
    """The resolved target: a package, or `package/activity` to start with `am start -n`."""

    target: str
    how: str

    @property
    def package(self) -> str:
        return self.target.partition("/")[0]

    @property
    def activity(self) -> str | None:
        return self.target if "/" in self.target else None


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _short_names(package: str) -> list[str]:
    """Names a package answers to: its last segment and its last two ("apps.maps")."""
    parts = [p for p in package.split(".") if p not in ("com", "android", "google", "apps")]
    return [parts[-1], "".join(parts[-2:])] if parts else [package]


def resolve_app(
    name: str,
    packages: Iterable[str],
    names: Mapping[str, str] | None = None,
    *,
    cutoff: float = 0.75,
) -> AppMatch:
    """Find the installed app meant by `name`.

    Args:
        name: what the model or user wrote.
        packages: the installed packages (`pm list packages`).
        names: extra name -> package (or package/activity) entries; they win over KNOWN_APPS.
        cutoff: the similarity (0..1) a fuzzy match needs.

    Raises:
        ActionError: nothing matches well enough, or two packages match equally well; the
            message lists the closest candidates.
    """
    installed = set(packages)
    candidates: dict[str, str] = {}  # label -> target
    for label, targets in KNOWN_APPS.items():
        found = next((t for t in targets if t in installed), None)
        if found is not None:
            candidates[label] = found
    for label, target in (names or {}).items():
        if target.partition("/")[0] in installed:
            candidates[label] = target
    wanted = name.strip()
    if wanted in installed:
        return AppMatch(wanted, "package name")
    if wanted in candidates:
        return AppMatch(candidates[wanted], "exact name")
    folded = {label.casefold(): target for label, target in candidates.items()}
    if wanted.casefold() in folded:
        return AppMatch(folded[wanted.casefold()], "name, ignoring case")
    by_short: dict[str, set[str]] = {}
    for package in installed:
        for short in _short_names(package):
            by_short.setdefault(short, set()).add(package)
    for label, target in candidates.items():
        by_short.setdefault(_squash(label), set()).add(target)
    key = _squash(wanted)
    if key in by_short and len(by_short[key]) == 1:
        return AppMatch(next(iter(by_short[key])), "package name, ignoring case")
    scored = sorted(
        ((difflib.SequenceMatcher(None, key, short).ratio(), short) for short in by_short),
        reverse=True,
    )
    best = [(score, short) for score, short in scored if score >= cutoff]
    if best:
        top_score, top = best[0]
        rivals = {t for score, short in best if score == top_score for t in by_short[short]}
        if len(rivals) == 1:
            return AppMatch(next(iter(rivals)), f"fuzzy match {top!r} ({top_score:.2f})")
        raise ActionError(
            f"app name {name!r} is ambiguous: it matches {', '.join(sorted(rivals))} equally; "
            "use the package name"
        )
    close = [t for _, short in scored[:3] for t in sorted(by_short[short])]
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ActionError(
        f"no installed app matches {name!r}{hint}; use a package name from "
        "`adb shell pm list packages` or add it to the android option app_names"
    )
