"""Judged outcome and policy claim read from result.json, new keys and old ones."""

from __future__ import annotations

from pixelpilot.agent.report import read_outcome


def test_new_keys_keep_judged_and_claim_apart() -> None:
    outcome = read_outcome(
        {"status": "terminated", "judged": "not solved", "success": False, "claim": "success"}
    )
    assert (outcome.judged, outcome.claim, outcome.status) == (
        "not solved",
        "success",
        "terminated",
    )


def test_old_records_are_read_through_status_and_success() -> None:
    old = read_outcome({"status": "success", "success": None, "reward": 1, "seconds": 2})
    assert (old.judged, old.claim, old.reward, old.seconds) == ("not judged", "success", 1.0, 2.0)
    assert read_outcome({"status": "max_steps", "success": True}).claim is None
    assert read_outcome({"status": "max_steps", "success": True}).judged == "solved"


def test_a_run_without_result_is_unfinished() -> None:
    outcome = read_outcome(None)
    assert outcome.status == "unfinished" and outcome.judged == "not judged"
    assert outcome.claim is None


def test_page_text_cannot_inject_markup_or_template_slots() -> None:
    from pixelpilot.agent.report.page import render_page

    page = render_page("{{css}} <b>", "<p>{{js}}</p>", kind="run")
    assert "<title>{{css}} &lt;b&gt;</title>" in page and "<p>{{js}}</p>" in page
