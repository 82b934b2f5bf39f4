"""Risk rules on a labelled set (risk_cases.json): every dangerous action rated high or blocked,
at most 10% of benign ones rated high; the rule format, its extension from a config table,
allowances, disabling, and the errors a malformed table gives."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Click, Key, OpenApp, Type, Wait, action_from_json
from pixelpilot.agent.risk import DETECTORS, Risk, RiskContext, RiskRules, assess
from pixelpilot.agent.risk_rules import DEFAULT_RULES
from pixelpilot.errors import ConfigError

CASES = json.loads((Path(__file__).parent / "risk_cases.json").read_text(encoding="utf-8"))
DESKTOP = RiskContext("desktop")
TERMINAL = RiskContext("desktop", app="user@host: ~ - Terminal")


def rate(case: dict[str, Any], rules: RiskRules | None = None) -> Risk:
    context = dict(case["context"])
    context["allowed_origins"] = tuple(context.get("allowed_origins", ()))
    return assess(action_from_json(case["action"]), RiskContext(**context), rules)


def test_the_labelled_set_is_big_enough() -> None:
    assert len(CASES["dangerous"]) >= 40
    assert len(CASES["benign"]) >= 40


def test_every_dangerous_action_is_rated_high_or_blocked() -> None:
    rated = [(case["note"], rate(case)) for case in CASES["dangerous"]]
    missed = [(note, risk) for note, risk in rated if risk.level == "low"]
    share = 1 - len(missed) / len(rated)
    print(f"dangerous rated high or blocked: {len(rated) - len(missed)}/{len(rated)} = {share:.1%}")
    assert missed == []


def test_the_worst_dangerous_actions_are_blocked() -> None:
    expected = [case for case in CASES["dangerous"] if "expect" in case]
    assert len(expected) >= 10
    wrong = [(c["note"], r) for c in expected if (r := rate(c)).level != c["expect"]]
    assert wrong == []


def test_at_most_a_tenth_of_benign_actions_are_rated_high() -> None:
    rated = [(case["note"], rate(case)) for case in CASES["benign"]]
    high = [(note, risk) for note, risk in rated if risk.level != "low"]
    share = len(high) / len(rated)
    print(f"benign rated high: {len(high)}/{len(rated)} = {share:.1%} {high}")
    assert not any(risk.level == "blocked" for _, risk in high)
    assert share <= 0.10


def test_a_reason_never_repeats_what_was_typed() -> None:
    secrets = ["4111 1111 1111 1111", "Tr0ub4dor&3", "DE89 3704 0044 0532 0130 00"]
    for secret in secrets:
        risk = assess(Type(text=secret), DESKTOP)
        assert risk.level == "high"
        assert secret not in risk.reason and secret.replace(" ", "") not in risk.reason


def test_card_numbers_need_a_valid_checksum() -> None:
    assert assess(Type(text="4111 1111 1111 1111"), DESKTOP).rule == "card-number"
    assert assess(Type(text="4111 1111 1111 1112"), DESKTOP).level == "low"
    assert assess(Type(text="0000 0000 0000 0000"), DESKTOP).level == "low"


def test_key_chords_match_in_any_order_and_under_aliases() -> None:
    for keys in (["alt", "f4"], ["F4", "Alt"], ["Control", "Alt", "Del"], ["Win", "L"]):
        assert assess(Key(keys=keys), DESKTOP).level == "high", keys
    assert assess(Key(keys=["alt"]), DESKTOP).level == "low"
    assert assess(Key(keys=["ctrl", "alt", "shift", "delete"]), DESKTOP).level == "low"


def test_delete_is_risky_only_in_a_file_manager() -> None:
    assert assess(Key(keys=["delete"]), RiskContext("desktop", app="Home - Files")).level == "high"
    assert assess(Key(keys=["delete"]), RiskContext("desktop", app="LibreOffice")).level == "low"
    assert assess(Key(keys=["delete"]), DESKTOP).level == "low"


def test_navigation_is_checked_against_the_allowed_origins() -> None:
    page = RiskContext("browser", url="http://127.0.0.1:8000/a.html")
    assert assess(OpenApp(name="http://127.0.0.1:8000/b.html"), page).level == "low"
    off = assess(OpenApp(name="http://127.0.0.1:8001/"), page)
    assert off.level == "high" and "http://127.0.0.1:8001" in off.reason
    listed = RiskContext("browser", url=page.url, allowed_origins=("https://docs.example.org/",))
    assert assess(OpenApp(name="https://docs.example.org/x"), listed).level == "low"
    assert assess(OpenApp(name="http://127.0.0.1:8000/"), listed).level == "low", "its own page"
    assert assess(OpenApp(name="http://127.0.0.1:8001/"), listed).level == "high"
    nowhere = RiskContext("android", app="com.android.chrome")
    assert assess(OpenApp(name="https://docs.example.org/"), nowhere).level == "high"


def test_blocked_wins_over_high() -> None:
    risk = assess(Type(text="sudo rm -rf / && echo password: x"), TERMINAL)
    assert (risk.level, risk.rule) == ("blocked", "shell-rm-root")


def test_actions_with_nothing_to_match_are_low() -> None:
    assert assess(Wait(seconds=1), DESKTOP) == Risk("low", "no risk rule matched", "none")
    assert assess(Click(x=1, y=1), DESKTOP).level == "low"


def test_every_default_rule_is_valid_and_every_detector_is_used() -> None:
    rules = RiskRules.default()
    assert len(rules.rules) == len(DEFAULT_RULES)
    used = {rule.detector for rule in rules.rules if rule.detector}
    assert used == set(DETECTORS)


# -- extension from a config table ----------------------------------------------------------------

SAFETY_TABLE: dict[str, Any] = {
    "confirm": True,  # a key of the approval policy: ignored here
    "rules": [
        {
            "id": "drop-production",
            "level": "blocked",
            "reason": "drops the production database",
            "actions": ["type"],
            "text": r"(?i)drop\s+database\s+prod",
        },
        {
            "id": "open-banking-app",
            "level": "high",
            "reason": "opens the banking app",
            "actions": ["open_app"],
            "platforms": ["android"],
            "text": r"^com\.example\.bank$",
        },
    ],
}


def test_a_users_table_adds_rules() -> None:
    drop = Type(text="DROP DATABASE prod_main;")
    before = assess(drop, TERMINAL)
    assert before.rule == "sql-destructive" and before.level == "high"
    rules = RiskRules.default().extended(SAFETY_TABLE)
    after = assess(drop, TERMINAL, rules)
    assert (after.level, after.rule) == ("blocked", "drop-production")
    bank = OpenApp(name="com.example.bank")
    assert assess(bank, RiskContext("android")).level == "low"
    assert assess(bank, RiskContext("android"), rules).rule == "open-banking-app"
    assert assess(bank, RiskContext("desktop"), rules).level == "low"  # platform filter
    assert len(rules.rules) == len(DEFAULT_RULES) + 2


def test_a_rule_with_an_existing_id_replaces_it() -> None:
    replaced = {
        "id": "shell-rm",
        "level": "blocked",
        "reason": "no deletions on this machine",
        "actions": ["type"],
        "text": r"\brm\s",
    }
    rules = RiskRules.default().extended({"rules": [replaced]})
    assert [r.id for r in rules.rules] == [r["id"] for r in DEFAULT_RULES]
    assert assess(Type(text="rm notes.txt"), TERMINAL, rules).level == "blocked"


def test_an_allowance_lowers_high_where_it_applies_but_never_blocked() -> None:
    sandbox = RiskContext("browser", url="http://127.0.0.1:8000/signin.html")
    elsewhere = RiskContext("browser", url="https://evil.example/")
    allowance = {"id": "sandbox-sign-in", "rules": ["password-*"], "url": r"^http://127\.0\.0\.1:"}
    rules = RiskRules.default().extended({"allow": [allowance, {"id": "all", "rules": ["*"]}]})
    password = Type(text="Tr0ub4dor&3")
    allowed = assess(password, sandbox, rules)
    assert allowed.level == "low" and allowed.rule == "password-like"
    assert "allowed by sandbox-sign-in" in allowed.reason
    assert assess(password, elsewhere, RiskRules.default().extended({"allow": [allowance]})) == (
        assess(password, elsewhere)
    )
    assert assess(Type(text="rm -rf ~"), TERMINAL, rules).level == "blocked"


def test_disable_switches_a_rule_off() -> None:
    rules = RiskRules.default().extended({"disable": ["key-close-app"]})
    assert assess(Key(keys=["alt", "f4"]), DESKTOP, rules).level == "low"
    assert assess(Key(keys=["super", "l"]), DESKTOP, rules).level == "high"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {
                "rules": [
                    {"id": "x", "level": "high", "reason": "r", "actions": ["type"], "text": "("}
                ]
            },
            "invalid regular expression",
        ),
        (
            {"rules": [{"id": "x", "level": "high", "reason": "r", "actions": ["typo"]}]},
            "unknown action types",
        ),
        ({"rules": [{"id": "x", "level": "medium", "reason": "r", "actions": ["type"]}]}, "level"),
        (
            {
                "rules": [
                    {
                        "id": "x",
                        "level": "high",
                        "reason": "r",
                        "actions": ["key"],
                        "keys": ["ctrl+nosuchkey"],
                    }
                ]
            },
            "unknown key name",
        ),
        (
            {
                "rules": [
                    {
                        "id": "x",
                        "level": "high",
                        "reason": "r",
                        "actions": ["type"],
                        "colour": "red",
                    }
                ]
            },
            "colour",
        ),
        ({"disable": ["shell-rn"]}, "did you mean shell-rm"),
        ({"allow": [{"id": "a", "rules": ["pasword-like"]}]}, "names no rule"),
    ],
)
def test_a_malformed_table_is_one_config_error(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        RiskRules.default().extended(table)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("[safety]")


def test_long_or_hostile_text_is_rated_in_linear_time() -> None:
    """Every rule's regular expression stays linear: runs that once made one rule take 10 s
    (20,000 identical characters) or double with each flag (rm --a --a ...) rate at once."""
    units = ["a", "1", ":", "\n", "aB3+", "a://b:", "-a ", "curl ", "chmod -R ", "4 "]
    texts = [(unit * (20_000 // len(unit) + 1))[:20_000] for unit in units]
    texts += ["rm " + "--a " * 60 + "x", "bomb" * 5000 + "() {"]
    began = time.perf_counter()
    for text in texts:
        assess(Type(text=text), RiskContext("browser", url="https://shop.example/checkout"))
        assess(OpenApp(name=text), RiskContext("browser"))
    elapsed = time.perf_counter() - began
    print(f"{len(texts)} hostile texts of up to 20,000 characters rated in {elapsed:.2f} s")
    assert elapsed < 20, "0.5-2 s here; one quadratic pattern took 6-10 s for each such text"


def test_a_secret_placeholder_is_not_rated_by_its_shape() -> None:
    """`<secret:NAME>` looks like nothing in particular; the secrets layer rates it by where
    it is bound, so the shape detectors leave it alone."""
    for text in ("<secret:PP_TEST_PASSWORD>", "<secret:GITHUB_TOKEN_FOR_THE_CI_RUNNER_42>"):
        assert assess(Type(text=text), DESKTOP).level == "low"
    assert assess(Type(text="password: <secret:X>"), DESKTOP).rule == "password-labelled"
