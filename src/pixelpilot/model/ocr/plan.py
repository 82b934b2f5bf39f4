"""Reading a goal that names several targets, in the order to click them.

"Select A, B and C, then click Submit" is four clicks: A, B, C, Submit. The goal is cut into
clauses at commas, semicolons, sentence ends, "then" and "and" (never inside quoted text). A
clause that starts with a click verb is a step of its own; a clause without a verb is one more
object of the verb before it ("B" in "Select A, B"). A bare "and" joins two objects into one
phrase unless the goal lists items with commas or a verb follows it: "Click Terms and
Conditions" is one target, "Select A, B and C" three. Clauses that start with another verb
("wait", "scroll", "make sure") end the verb's list and add no step, and objects meaning no item
("nothing", "none") add no step either. Typing goals stay one step.

Everything here is general by construction: the rules know English verbs and list punctuation,
never a benchmark, task or page.

API:
    parse_plan(goal) -> tuple[Intent, ...]   one Intent per click, in order (at least one)
"""

from __future__ import annotations

import re

from pixelpilot.model.ocr.text import _QUOTED, CLICK_VERBS, Intent, normalize, parse_goal

# Verbs that start a clause asking for something other than a click on a named target.
_OTHER_VERBS = (
    "wait",
    "scroll",
    "type",
    "enter",
    "write",
    "make sure",
    "ensure",
    "verify",
    "see",
    "read",
    "look",
    "return",
    "go back",
    "keep",
    "leave",
    "do not",
    "don't",
)
_NOTHING = frozenset({"nothing", "none", "no item", "no items", "no option", "no options"})
# Separators between clauses: "," / ";" (with an optional "and", "then" or "and then"), a
# sentence end, or a spaced "then" / "and then" / "and".
_SEPARATOR = re.compile(
    r"\s*[,;]\s*(?:(?:and\s+)?then\s+|and\s+)?|\.\s+|\s+(?:and\s+)?then\s+|\s+and\s+",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?:and|then|finally|also|please|next)\s+", re.IGNORECASE)


def _starts_with(clause: str, verbs: tuple[str, ...]) -> str | None:
    lowered = clause.lower()
    for verb in sorted(verbs, key=len, reverse=True):
        if lowered == verb or lowered.startswith(verb + " "):
            return verb
    return None


def _clauses(goal: str) -> list[tuple[str, str]]:
    """(separator before it: "", "and" or "hard"; clause text) in order, quotes kept whole."""
    # Mask quoted text so that a comma or an "and" inside a quoted label cuts nothing.
    masked = list(goal)
    for found in _QUOTED.finditer(goal):
        for i in range(found.start() + 1, found.end() - 1):
            masked[i] = "x"
    pieces: list[tuple[str, str]] = []
    kind, start = "", 0
    for sep in _SEPARATOR.finditer("".join(masked)):
        pieces.append((kind, goal[start : sep.start()]))
        kind = "and" if sep.group().strip().lower() == "and" else "hard"
        start = sep.end()
    pieces.append((kind, goal[start:]))
    cleaned = []
    for kind, text in pieces:
        text = _LEADING.sub("", text.strip()).strip().rstrip(".").strip()
        if text:
            cleaned.append((kind, text))
    return cleaned


def parse_plan(goal: str) -> tuple[Intent, ...]:
    """The goal's targets as one Intent per click, in order (see the module docstring).

    Args:
        goal: the instruction, in English.

    Returns:
        At least one Intent; exactly `(parse_goal(goal),)` for a typing goal or a goal with
        nothing to split.
    """
    whole = parse_goal(goal)
    if whole.kind == "type":
        return (whole,)
    clauses = _clauses(goal)
    listed = any(kind == "hard" for kind, _ in clauses[1:])
    steps: list[Intent] = []
    verb: str | None = None
    for kind, clause in clauses:
        clause_verb = _starts_with(clause, CLICK_VERBS)
        if clause_verb is not None:
            verb = clause_verb
            object_text = clause[len(clause_verb) :].strip()
            step = parse_goal(clause)
            if normalize(object_text) not in _NOTHING and step.targets:
                steps.append(step)
            continue
        if _starts_with(clause, _OTHER_VERBS) is not None:
            verb = None
            continue
        if normalize(clause) in _NOTHING:
            continue
        if kind == "and" and not listed and steps:
            # "Terms and Conditions": one label that holds an "and"; its first half stays a
            # weaker target, as before.
            previous = steps[-1]
            joined = f"{previous.targets[0]} and {clause}"
            steps[-1] = Intent("click", (joined, *previous.targets), previous.verb)
            continue
        if verb is None and steps:
            continue
        steps.append(parse_goal(f"{verb} {clause}" if verb else clause))
    return tuple(steps) or (whole,)
