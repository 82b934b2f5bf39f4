"""Action risk: rate every action `low`, `high` or `blocked` before it runs, with a reason.

`assess(action, context, rules)` is a pure function: it looks only at the action, at what the
loop knows about the screen (`RiskContext`: platform, URL, foreground app, allowed origins) and
at the rules, which are data (`RiskRules`). `blocked` means never run (`rm -rf ~`, a fork bomb,
`mkfs`, a script piped into a root shell); `high` means consequential but legitimate (typing a
card number or a password, `sudo`, alt+f4, the power key, installing an app, navigating to
another origin), to be confirmed by a person or allowed by the configuration; `low` is the rest.
The default rules are in `pixelpilot.agent.risk_rules`.

Rule format (a `[[safety.rules]]` entry of a config file, or one dict of `DEFAULT_RULES`):

    id        a unique name, lowercase letters, digits, ".", "_" and "-" ("shell-rm")
    level     "high" or "blocked"
    reason    one line a person reads in the confirmation prompt (never the matched text)
    actions   the action types it applies to: ["type"], ["key"], ["open_app"], ["click"], ...
    platforms optional: only on these platforms ("desktop", "browser", "android")
    text      optional: a Python regular expression searched (re.search, re.MULTILINE) in the
              typed text (type) or the app/URL name (open_app); start with (?i) to ignore case.
              Every action is rated with every rule, so keep patterns linear (no nested
              repeats such as (a+)+, and bounded gaps such as .{0,500} rather than .*)
    keys      optional: chords such as "ctrl+alt+delete"; a key action matches when it presses
              exactly one chord's keys (in any order; names as in `pixelpilot.actions.keys`)
    app       optional: a regular expression searched in the foreground app or window title
    url       optional: a regular expression searched in the current page's URL
    detector  optional: a named check that a regular expression cannot express:
              "card_number" (13-19 digits with a card prefix and a valid Luhn checksum),
              "iban" (a valid mod-97 checksum), "password_like" (one 8-128 character word mixing
              letters, digits and symbols that is no e-mail, URL, path or file name),
              "token_like" (one 24+ character word of letters and digits, not hexadecimal, with
              at least 4 bits of entropy per character), "off_origin" (open_app with a URL whose
              origin is neither the current page's nor among the allowed origins)

A rule matches when every condition it has holds; a rule with only `actions` matches every
action of those types. Of all matching rules the most severe wins (the first among equals).

Extending (`RiskRules.extended`, from a config file's `[safety]` table; other keys of the
table are left to their owners):

    [[safety.rules]]                 # a new rule, or one that replaces the default of its id
    id = "drop-production"
    level = "blocked"
    reason = "drops the production database"
    actions = ["type"]
    text = '(?i)drop\\s+database\\s+prod'

    [[safety.allow]]                 # let matching `high` rules pass where they are expected
    id = "sandbox-sign-in"
    rules = ["password-like", "password-labelled"]   # rule ids, or globs such as "card-*"
    url = '^http://127\\.0\\.0\\.1:\\d+/'            # optional: also platforms, actions, app
    reason = "the sandbox's own sign-in page"

    [safety]
    disable = ["key-close-app"]      # switch default rules off by id

An allowance turns a matching `high` rule into `low` (the Risk keeps the rule's id and says
which allowance let it pass); it never lowers `blocked`, which only `disable` switches off.

May import: `pixelpilot.actions` and the shared modules.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from pixelpilot.actions import ACTION_TYPES, Action, Key, OpenApp, Platform, Type, normalize_key
from pixelpilot.agent.risk_detectors import DETECTORS
from pixelpilot.agent.risk_rules import DEFAULT_RULES
from pixelpilot.errors import ConfigError, explain_validation

__all__ = [
    "DETECTORS",
    "Allowance",
    "Risk",
    "RiskContext",
    "RiskLevel",
    "RiskRule",
    "RiskRules",
    "assess",
]

RiskLevel = Literal["low", "high", "blocked"]
DetectorName = Literal["card_number", "iban", "password_like", "token_like", "off_origin"]
_SEVERITY: dict[str, int] = {"low": 0, "high": 1, "blocked": 2}
RULE_KEYS = ("rules", "allow", "disable")
"""The keys of a `[safety]` table that `RiskRules.extended` reads."""


@dataclass(frozen=True)
class RiskContext:
    """What the loop knows when an action is about to run.

    Attributes:
        platform: "desktop", "browser" or "android".
        url: the current page (browser).
        app: the foreground app (android: the package) or window title (desktop).
        allowed_origins: origins (scheme://host[:port]) navigation may reach besides the
            current page's own (browser).
    """

    platform: Platform
    url: str | None = None
    app: str | None = None
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Risk:
    """The rating of one action: its level, one line for a person, and the rule's id."""

    level: RiskLevel
    reason: str
    rule: str


LOW = Risk("low", "no risk rule matched", "none")


# -- rules as data --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            _regex(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


def _check_action_types(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [t for t in value if t not in ACTION_TYPES]
    if unknown:
        raise ValueError(f"unknown action types {unknown}; known: {', '.join(ACTION_TYPES)}")
    return value


def _chord(text: str) -> frozenset[str]:
    parts = [*text[:-2].split("+"), "+"] if text.endswith("++") else text.split("+")
    return frozenset(normalize_key(p) for p in parts)


_ID = r"^[a-z0-9][a-z0-9._-]*$"


class _Matcher(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actions: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    app: str | None = None
    url: str | None = None

    @field_validator("actions")
    @classmethod
    def _check_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_action_types(value)

    @field_validator("app", "url")
    @classmethod
    def _check_patterns(cls, value: str | None) -> str | None:
        return _check_regex(value)

    def _where(self, action: Action, context: RiskContext) -> bool:
        """The action-type, platform, app and URL conditions all hold."""
        if self.actions and action.type not in self.actions:
            return False
        if self.platforms and context.platform not in self.platforms:
            return False
        for pattern, value in ((self.app, context.app), (self.url, context.url)):
            if pattern is not None and (value is None or not _regex(pattern).search(value)):
                return False
        return True


class RiskRule(_Matcher):
    """One rule; see the module docstring for what each field means."""

    id: str = Field(pattern=_ID)
    level: Literal["high", "blocked"]
    reason: str = Field(min_length=1)
    actions: tuple[str, ...] = Field(min_length=1)
    text: str | None = None
    keys: tuple[str, ...] = ()
    detector: DetectorName | None = None

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        return _check_regex(value)

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple("+".join(sorted(_chord(k))) for k in value)
        except ValueError as exc:
            raise ValueError(str(exc).split(";")[0]) from None

    def match(self, action: Action, context: RiskContext) -> str | None:
        """The reason to show when this rule matches `action` in `context`, else None."""
        if not self._where(action, context):
            return None
        if self.keys and not (
            isinstance(action, Key) and "+".join(sorted(set(action.keys))) in self.keys
        ):
            return None
        subject = action.text if isinstance(action, Type) else None
        subject = action.name if isinstance(action, OpenApp) else subject
        if (self.text is not None or self.detector is not None) and subject is None:
            return None
        if self.text is not None and not _regex(self.text).search(subject or ""):
            return None
        if self.detector is not None:
            detail = DETECTORS[self.detector](subject or "", context)
            return None if detail is None else f"{self.reason}: {detail}"
        return self.reason


class Allowance(_Matcher):
    """Lets matching `high` rules pass (as `low`) where the conditions hold.

    Attributes:
        id: a name for the record.
        rules: rule ids, or shell-style globs ("card-*").
        reason: why this is allowed, for the record.
    """

    id: str = Field(pattern=_ID)
    rules: tuple[str, ...] = Field(min_length=1)
    reason: str = ""

    def covers(self, rule: RiskRule, action: Action, context: RiskContext) -> bool:
        """Whether this allowance lets `rule` pass for `action` in `context`."""
        if rule.level != "high" or not any(fnmatch.fnmatchcase(rule.id, p) for p in self.rules):
            return False
        return self._where(action, context)


class RiskRules(BaseModel):
    """The rules in force: `rules` in order, the `allow`ances, and the ids switched off.

    Raises (on construction):
        pydantic.ValidationError: a malformed rule, a duplicate id, or an allowance or
            `disable` entry that names no rule. `extended` turns these into ConfigError.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[RiskRule, ...] = ()
    allow: tuple[Allowance, ...] = ()
    disable: tuple[str, ...] = ()

    @_model_validator(mode="after")
    def _check_references(self) -> RiskRules:
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids used twice: {', '.join(duplicates)}")
        for name in self.disable:
            if name not in ids:
                raise ValueError(f"disable names no rule: {name!r}{_did_you_mean(name, ids)}")
        for allowance in self.allow:
            for pattern in allowance.rules:
                if not fnmatch.filter(ids, pattern):
                    raise ValueError(
                        f"allowance {allowance.id!r} names no rule: "
                        f"{pattern!r}{_did_you_mean(pattern, ids)}"
                    )
        return self

    @classmethod
    def default(cls) -> RiskRules:
        """The built-in rules (`pixelpilot.agent.risk_rules.DEFAULT_RULES`)."""
        return _default_rules()

    def extended(self, extra: Mapping[str, Any]) -> RiskRules:
        """These rules plus a user's additions: a `[safety]` table's `rules` (new ones appended,
        one with an existing id replacing it in place), `allow` and `disable` entries; other
        keys of the table are ignored (they belong to the approval policy).

        Raises:
            ConfigError: an entry is malformed; the one-line message names it.
        """
        try:
            added = _Extension.model_validate({k: extra[k] for k in RULE_KEYS if k in extra})
            rules = {rule.id: rule for rule in self.rules}
            rules.update((rule.id, rule) for rule in added.rules)
            return RiskRules(
                rules=tuple(rules.values()),
                allow=(*self.allow, *added.allow),
                disable=tuple(dict.fromkeys((*self.disable, *added.disable))),
            )
        except ValidationError as exc:
            raise ConfigError(f"[safety] {explain_validation(exc)}") from None

    def active(self) -> tuple[RiskRule, ...]:
        """The rules that are not disabled, in order."""
        return tuple(r for r in self.rules if r.id not in self.disable)


class _Extension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RiskRule] = []
    allow: list[Allowance] = []
    disable: list[str] = []


def _did_you_mean(name: str, ids: list[str]) -> str:
    close = difflib.get_close_matches(name, ids, n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


@functools.cache
def _default_rules() -> RiskRules:
    return RiskRules.model_validate({"rules": DEFAULT_RULES})


def assess(action: Action, context: RiskContext, rules: RiskRules | None = None) -> Risk:
    """Rate `action` before it runs in `context`.

    Args:
        action: the action about to run (terminal actions rate `low` unless a rule names them).
        context: the platform, current URL or app, and allowed origins.
        rules: the rules in force (default: `RiskRules.default()`).

    Returns:
        The most severe matching rule's Risk (the first among equals); a `high` match that an
        allowance covers counts as `low` with a reason naming the allowance; `LOW` when
        nothing matched. The reason never repeats the typed text.
    """
    rules = rules if rules is not None else _default_rules()
    found: Risk | None = None
    for rule in rules.active():
        reason = rule.match(action, context)
        if reason is None:
            continue
        allowance = next((a for a in rules.allow if a.covers(rule, action, context)), None)
        if allowance is not None:
            risk = Risk("low", f"allowed by {allowance.id}: {reason}", rule.id)
        else:
            risk = Risk(rule.level, reason, rule.id)
        if found is None or _SEVERITY[risk.level] > _SEVERITY[found.level]:
            found = risk
        if found.level == "blocked":
            break
    return found or LOW
