"""Reading an instruction for the OCR baseline, and matching its target against screen text.

Everything here is general by construction: the rules know English verbs, articles and the names
of common controls, never a benchmark, task or page.

API:
    parse_goal(goal) -> Intent         what to click, or what to type where
    rank(boxes, intent, *, threshold) -> list[Match]   best first, scores >= MIN_SCORE
    restating(boxes, goal, target) -> list[bool]       lines of an on-screen copy of the goal
    locate(target, text) -> (span, same_case)          where a target lies inside a line
    normalize(text) -> str             casefolded words joined by single spaces
    text_key(text) -> str              normalize() without spaces: one text however OCR spaced it
    TextBox(text, box, confidence), Match(box, score, target)

Targets, best first: quoted text in the goal ("…", “…”, '…', «…»); then the object phrase
after the first action verb (click, tap, select, open, close, accept, ...; the phrase ends at
punctuation or a clause word such as "and", "then", "without"; leading articles and a trailing
control noun such as "button" or "link" are dropped). For verbs that are often a control's own
label (open, close, accept, save, ...) the verb with its phrase comes before the phrase, and
the verb alone comes last at half weight ("Close the pop-up" -> a "Close" button). A typing
goal ("type X into the Y field", "enter X in Y", "fill in Y with X", "search for X") yields the
text and the field's label as the target.

Match score in [0, 1] for one target and one box text: 1.0 identical; 0.97 equal after
normalising case, punctuation and spacing; the difflib ratio when it reaches `threshold`
(fuzzy); 0.5 + 0.4 * len(target) / len(text) when the whole target appears as words inside the
box text; else 0.9 * ratio * len(g) / len(target) for the best run of words g of the target whose
ratio against the box text reaches `threshold` (a partial match: "Margaret Hamilton" inside
"contact details of Margaret Hamilton"). Lower-priority targets are weighted down by 5% per
rank (the verb alone by 50%), a box containing the goal's verb gets +0.1, a partial match
written in the goal's own case gets +0.02, and a box scoring under MIN_SCORE (0.25) is no
match. Every comparison is also made with spaces removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from pixelpilot.actions import Box

# Verbs that point at a target ("click the Save button"): the target is their object.
POINTING_VERBS = (
    "double-click",
    "double click",
    "click on",
    "click",
    "tap on",
    "tap",
    "press",
    "hit",
    "push",
    "select",
    "choose",
    "pick",
    "check",
    "uncheck",
    "toggle",
    "go to",
    "navigate to",
    "follow",
    "visit",
    "view",
    "show",
)
# Verbs that are often the control's own label ("Close", "I accept the terms"): the verb with
# its object, and the verb alone, are targets too.
LABEL_VERBS = (
    "open",
    "close",
    "dismiss",
    "accept",
    "decline",
    "confirm",
    "cancel",
    "submit",
    "save",
    "delete",
    "remove",
    "expand",
    "collapse",
    "subscribe",
    "unsubscribe",
    "download",
    "sign in",
    "sign out",
    "log in",
    "log out",
    "sign up",
)
CLICK_VERBS = POINTING_VERBS + LABEL_VERBS
_ARTICLES = ("the", "a", "an", "on", "my", "your", "this", "that")
_CONTROL_NOUNS = (
    "button",
    "link",
    "tab",
    "icon",
    "menu item",
    "menu",
    "option",
    "checkbox",
    "check box",
    "radio button",
    "toggle",
    "switch",
    "entry",
    "item",
    "field",
    "text field",
    "input",
    "box",
    "text box",
    "search box",
)
_CLAUSE_END = re.compile(
    # Punctuation ends a clause only before a space: "docs.gitlab.com" and "17.2.1" stay whole.
    r"[.,;:!?](?=\s)|[()]"
    r"|\s(?:and|then|without|so that|so|but|before|after|once|if|to make|in order)\s",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|«([^»]+)»|(?<![\w])'([^']+)'(?![\w])|`([^`]+)`")
_TYPE_PATTERNS = (
    # type / enter / write / input X into|in|on the Y (field)
    re.compile(
        r"\b(?:type|enter|write|input|put)\s+(?P<text>.+?)\s+(?:into|in|on)\s+(?P<field>.+)",
        re.IGNORECASE,
    ),
    re.compile(r"\bfill\s+(?:in|out)?\s*(?P<field>.+?)\s+with\s+(?P<text>.+)", re.IGNORECASE),
    re.compile(r"\bsearch\s+for\s+(?P<text>.+)", re.IGNORECASE),
)
# Glyphs OCR reads for one another in short codes and names ("CLyI" as "CLyl", "b2O" as
# "b20"), after casefolding: equal once folded is nearly exact.
_CONFUSABLE = str.maketrans({"0": "o", "i": "l", "1": "l"})
MIN_SCORE = 0.25  # below it a box is not a match at all
_STOPWORDS = frozenset(_ARTICLES) | {"of", "to", "in", "for", "and", "with", "at", "by", "is"}


@dataclass(frozen=True)
class Intent:
    """What a goal asks for.

    Attributes:
        kind: "click" (click the best target) or "type" (click the field, then type).
        targets: phrases to look for on screen, best first.
        verb: the action verb as written ("accept"), or None.
        text: the text to type (type intents only).
        submit: press Enter after typing ("search for X").
    """

    kind: Literal["click", "type"]
    targets: tuple[str, ...]
    verb: str | None = None
    text: str | None = None
    submit: bool = False


@dataclass(frozen=True)
class TextBox:
    """One recognised line: its text, its box in screenshot pixels, the OCR confidence."""

    text: str
    box: Box
    confidence: float = 1.0


@dataclass(frozen=True)
class Match:
    """A box matching a target; `span` is where the target lies along the box's width, as
    fractions (0.0-1.0) of its text, when the target is only part of the text."""

    box: TextBox
    score: float
    target: str
    span: tuple[float, float] | None = None

    def point(self) -> tuple[float, float]:
        """Where to click: the target's part of the line (a word inside a sentence), else the
        box's centre. Characters are taken as equally wide: a proportional font's error is a
        fraction of a word."""
        cx, cy = self.box.box.center
        box = self.box.box
        # In a short box (a truncated label) the OCR box's slack outweighs the word's offset.
        if self.span is None or box.width < 4 * box.height:
            return cx, cy
        return box.x1 + box.width * (self.span[0] + self.span[1]) / 2, cy


def normalize(text: str) -> str:
    """Casefolded words (letters and digits) joined by single spaces."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def text_key(text: str) -> str:
    """A text's identity for "already tried": normalised, spaces dropped (OCR may drop them)."""
    return _compact(normalize(text))


def _strip_quotes(text: str) -> str:
    quoted = _QUOTED.fullmatch(text.strip())
    if quoted:
        return next(g for g in quoted.groups() if g is not None)
    return text.strip().strip(".")


def _clean_phrase(phrase: str) -> str:
    """Cut at the clause's end; drop leading articles and a trailing control noun."""
    phrase = _CLAUSE_END.split(f" {phrase} ", maxsplit=1)[0].strip()
    words = phrase.split()
    while words and words[0].lower() in _ARTICLES:
        words = words[1:]
    text = " ".join(words)
    for noun in sorted(_CONTROL_NOUNS, key=len, reverse=True):
        if text.lower().endswith(" " + noun):
            return text[: -len(noun) - 1].strip()
    return text


def _unique(items: list[str]) -> tuple[str, ...]:
    # A target of symbols only ("×", "+") is kept as written: it has no words to normalise.
    seen: dict[str, str] = {}
    for item in items:
        key = normalize(item) or item.strip()
        if key and key not in seen:
            seen[key] = item.strip() if not normalize(item) else item
    return tuple(seen.values())


def parse_goal(goal: str) -> Intent:
    """Read what the goal asks to click or type (see the module docstring for the rules)."""
    quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(goal)]
    for pattern in _TYPE_PATTERNS:
        found = pattern.search(goal)
        if not found:
            continue
        text = _strip_quotes(found.group("text"))
        field = found.groupdict().get("field")
        submit = field is None
        label = _clean_phrase(_strip_quotes(field)) if field else "search"
        return Intent("type", _unique([label]), text=text, submit=submit)
    verb_match = re.search(
        r"\b(" + "|".join(re.escape(v) for v in CLICK_VERBS) + r")\b\s*(?P<rest>.*)",
        goal,
        re.IGNORECASE | re.DOTALL,
    )
    if verb_match is None:
        return Intent("click", _unique([*quoted, _clean_phrase(goal)]))
    verb = verb_match.group(1).lower()
    phrase = _clean_phrase(_strip_quotes(verb_match.group("rest")))
    if verb not in LABEL_VERBS:
        return Intent("click", _unique([*quoted, phrase]))
    targets = [*quoted, f"{verb} {phrase}" if phrase else "", phrase, verb]
    return Intent("click", _unique(targets), verb=verb)


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_score(target: str, text: str, *, threshold: float) -> float:
    """How well a box's `text` matches `target`, in [0, 1] (0: no match).

    Each comparison is made with and without spaces: the OCR model often drops the spaces
    between words of tightly set text ("Iaccepttheterms").
    """
    if text.strip() == target.strip():
        return 1.0
    norm_target, norm_text = normalize(target), normalize(text)
    if not norm_target or not norm_text:
        return 0.0
    if _compact(norm_target) == _compact(norm_text):
        return 0.97
    if _compact(norm_target).translate(_CONFUSABLE) == _compact(norm_text).translate(_CONFUSABLE):
        return 0.95
    ratio = _similarity(norm_target, norm_text)
    if ratio >= threshold:
        return min(ratio, 0.96)
    if _contains(norm_text, norm_target):
        return 0.5 + 0.4 * len(_compact(norm_target)) / len(_compact(norm_text))
    words = norm_target.split()
    best = 0.0
    for size in range(len(words) - 1, 0, -1):
        for start in range(len(words) - size + 1):
            gram = words[start : start + size]
            if all(w in _STOPWORDS for w in gram):
                continue
            joined = " ".join(gram)
            gram_ratio = _similarity(joined, norm_text)
            if gram_ratio >= threshold:
                best = max(best, 0.9 * gram_ratio * len(joined) / len(norm_target))
    return best


def _compact(text: str) -> str:
    return text.replace(" ", "")


def _contains(text: str, words: str) -> bool:
    """`words` appear as whole words in `text`; in a text OCR read without any space, as a
    substring ("accept" is in "Iaccepttheterms" but not in "3 Acceptable use")."""
    if " " in text:
        return f" {words} " in f" {text} "
    return _compact(words) in text


def _similarity(a: str, b: str) -> float:
    return max(_ratio(a, b), _ratio(_compact(a), _compact(b)))


def rank(boxes: list[TextBox], intent: Intent, *, threshold: float) -> list[Match]:
    """Boxes matching the intent's targets, best first; `threshold` is the fuzzy ratio floor."""
    matches = []
    for box in boxes:
        best = Match(box, 0.0, "")
        for position, target in enumerate(intent.targets):
            weight = 1.0 - 0.05 * position
            if intent.verb is not None and target == intent.verb:
                weight = 0.5
            score = weight * match_score(target, box.text, threshold=threshold)
            if score > best.score:
                best = Match(box, score, target)
        if best.score > 0 and intent.verb and _contains(normalize(box.text), intent.verb):
            best = Match(box, best.score + 0.1, best.target)
        if best.score >= MIN_SCORE:
            span, exact_case = locate(best.target, box.text)
            # The goal's own capitalisation singles out "Eget" from "eget" in running text.
            bonus = 0.02 if exact_case and best.score < 0.97 else 0.0
            matches.append(Match(box, best.score + bonus, best.target, span))
    return sorted(matches, key=lambda m: (-m.score, m.box.box.y1, m.box.box.x1))


def locate(target: str, text: str) -> tuple[tuple[float, float] | None, bool]:
    """Where `target`'s words lie in `text`, as fractions of the text's length, and whether
    they are written in the same case; (None, False) when the target is not a proper part of
    the text (absent, or the whole text)."""
    words = re.findall(r"\w+", target)
    if not words or normalize(target) == normalize(text):
        return None, False
    pattern = r"(?<!\w)" + r"\W*".join(re.escape(w) for w in words) + r"(?!\w)"
    found = re.search(pattern, text)
    exact_case = found is not None
    if found is None:
        found = re.search(pattern, text, re.IGNORECASE)
    if found is None:
        return None, False
    return (found.start() / len(text), found.end() / len(text)), exact_case


def restating(boxes: list[TextBox], goal: str, target: str) -> list[bool]:
    """For each box, whether it belongs to a paragraph that restates the goal itself.

    Apps and tests often show the instruction on screen; its copy of the target word is not
    the control to click. A paragraph (lines stacked tightly, left edges aligned) restates the
    goal when it holds at least two, and at least 60%, of the goal's words that are neither
    stopwords nor part of `target`. "I accept the terms" does not restate "Accept the terms"
    (the target covers the goal), but "Select A and click Submit." restates that goal for A.
    """
    target_words = set(normalize(target).split())
    # Words of three letters or more: "17.2.1" or "a11y" leave digits that say nothing.
    others = {
        w for w in normalize(goal).split() if len(w) > 2 and w not in _STOPWORDS | target_words
    }
    if len(others) < 2:
        return [False] * len(boxes)
    paragraph = list(range(len(boxes)))  # union-find parents: a paragraph per root

    def root(i: int) -> int:
        while paragraph[i] != i:
            i = paragraph[i]
        return i

    for i, upper in enumerate(boxes):
        for j, lower in enumerate(boxes):
            a, b = upper.box, lower.box
            gap = b.y1 - a.y2
            if i != j and -0.5 * a.height < gap < 0.6 * a.height and abs(b.x1 - a.x1) < a.height:
                paragraph[root(j)] = root(i)
    texts: dict[int, list[str]] = {}
    for i, box in enumerate(boxes):
        texts.setdefault(root(i), []).append(normalize(box.text))
    restates = {}
    for key, lines in texts.items():
        joined = " ".join(lines)
        words, compact = set(joined.split()), _compact(joined)
        present = sum(1 for w in others if w in words or (len(w) > 3 and w in compact))
        restates[key] = present >= 2 and present >= 0.6 * len(others)
    return [restates[root(i)] for i in range(len(boxes))]
