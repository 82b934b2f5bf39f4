"""The sandbox's tasks: a goal, a start page and a success check evaluated in the page.

Pages keep their state in localStorage under `sandbox.<key>` (see `static/sandbox.js`), so every
check reads that state and works on whichever sandbox page the episode ends on. The browser
environment opens each episode in a fresh browser context, so every task starts from the pages'
defaults. Question tasks have no check in the page: the agent's answer is compared with
`expected_answer` instead.
"""

from __future__ import annotations

from pixelpilot.actions import Task
from pixelpilot.env.browser.sandbox.server import SANDBOX_SCHEME

PREFIX = "sandbox"


def _stored(key: str) -> str:
    """A JavaScript expression for the value a sandbox page saved under `key` (null if none)."""
    return f"JSON.parse(localStorage.getItem('sandbox.{key}'))"


def _check(key: str, body: str) -> str:
    """A check `(v => BODY)(stored value)`, so BODY can test the value `v` more than once."""
    return f"(v => v !== null && ({body}))({_stored(key)})"


# The sandbox's own pages ask for a password (sign-in): typing it there is expected, so the
# sandbox declares that allowance and evaluations on it run unattended (see agent.risk).
SAFETY = {
    "allow": [
        {
            "id": "sandbox-local-pages",
            "rules": ["password-*"],
            "url": r"^http://127\.0\.0\.1:\d+/",
            "reason": "the bundled sandbox's own sign-in page, served on this machine",
        }
    ]
}


def _task(
    name: str,
    page: str,
    goal: str,
    *,
    check: str | None = None,
    answer: str | None = None,
) -> Task:
    return Task(
        goal=goal,
        name=f"{PREFIX}:{name}",
        start_url=f"{SANDBOX_SCHEME}/{page}",
        success_js=check,
        expected_answer=answer,
        safety=SAFETY,
    )


TASKS: tuple[Task, ...] = (
    _task(
        "sign-in",
        "login.html",
        "Sign in with the username ada and the password lovelace-1843.",
        check=f"{_stored('user')} === 'ada'",
    ),
    _task(
        "toggle-setting",
        "settings.html",
        "Turn on two-factor authentication and leave the other settings as they are.",
        check=_check(
            "settings",
            "v.twoFactor === true && v.darkMode === false && v.email === true "
            "&& v.autoplay === true",
        ),
    ),
    _task(
        "pick-dropdown",
        "profile.html",
        "Set the country in your profile to Portugal and save the profile.",
        check=_check("profile", "v.country === 'Portugal'"),
    ),
    _task(
        "add-item",
        "list.html",
        "Add an item named “Crème brûlée für Zoë” to the shopping list.",
        check=_check(
            "list",
            "JSON.stringify(v) === JSON.stringify(['Milk', 'Bread', 'Eggs', "
            "'Cr\\u00e8me br\\u00fbl\\u00e9e f\\u00fcr Zo\\u00eb'])",
        ),
    ),
    _task(
        "accept-terms",
        "terms.html",
        "Accept the terms of service.",
        check=f"{_stored('termsAccepted')} === true",
    ),
    _task(
        "close-modal",
        "news.html",
        "Close the newsletter pop-up without subscribing.",
        check=f"{_stored('newsletter')} === 'dismissed'",
    ),
    _task(
        "rename-note",
        "notes.html",
        "Rename the note “Groceries” to “Weekend groceries”.",
        check=_check(
            "notes",
            "JSON.stringify(v.map(n => n.title)) === "
            "JSON.stringify(['Meeting agenda', 'Weekend groceries', 'Book list'])",
        ),
    ),
    _task(
        "delete-file",
        "files.html",
        "Delete the file old-draft.txt and keep the other files.",
        check=_check(
            "files",
            "JSON.stringify(v.map(f => f.name)) === "
            "JSON.stringify(['report.pdf', 'photo.jpg', 'budget.xlsx'])",
        ),
    ),
    _task(
        "save-shortcut",
        "editor.html",
        "Save the document with the keyboard shortcut Ctrl+S.",
        check=f"{_stored('documentSaved')} === true",
    ),
    _task(
        "set-volume",
        "volume.html",
        "Drag the volume slider to 75.",
        check=f"{_stored('volume')} === 75",
    ),
    _task(
        "checkout",
        "shop.html",
        "Buy two Blue mugs with standard shipping, for Grace Hopper at 12 Harbour Road.",
        check=_check(
            "order",
            "JSON.stringify(v.items) === JSON.stringify({'blue-mug': 2}) "
            "&& v.shipping === 'standard' && v.name === 'Grace Hopper' "
            "&& v.address === '12 Harbour Road'",
        ),
    ),
    _task(
        "order-status",
        "orders.html",
        "What is the status of order #4417? Answer with the status only.",
        answer="Delayed",
    ),
    _task(
        "find-contact",
        "contacts.html",
        "Open the contact details of Margaret Hamilton.",
        check=f"{_stored('contact')} === 'Margaret Hamilton'",
    ),
    _task(
        "upload-limit",
        "help.html",
        "What is the daily upload limit shown on the help page? Answer with the value only.",
        answer="250 MB",
    ),
)

_BY_NAME = {task.name.removeprefix(f"{PREFIX}:"): task for task in TASKS if task.name}


def list_tasks() -> list[Task]:
    """Every sandbox task, in catalogue order; each has a `name` like "sandbox:sign-in"."""
    return list(TASKS)


def get_task(name: str) -> Task:
    """The sandbox task called `name` ("sign-in" or "sandbox:sign-in").

    Raises:
        UnknownNameError: no such task; the message lists the tasks and the closest name.
    """
    from pixelpilot.env.tasks import unknown_task

    short = name.removeprefix(f"{PREFIX}:")
    try:
        return _BY_NAME[short]
    except KeyError:
        raise unknown_task(PREFIX, short, _BY_NAME) from None


class SandboxTaskSuite:
    """`sandbox:NAME`: the bundled web sandbox's tasks, run with `--env browser`."""

    name = PREFIX
    environments = ("browser",)
    description = "the bundled web sandbox"

    def tasks(self) -> list[Task]:
        return list_tasks()

    def get(self, name: str) -> Task:
        return get_task(name)


SANDBOX_TASKS = SandboxTaskSuite()
