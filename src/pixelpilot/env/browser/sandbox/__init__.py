"""The web sandbox: a small multi-page web application shipped inside the package, the server
that serves it on 127.0.0.1, and its task catalogue (`--task sandbox:NAME`).

The browser environment starts the server itself when a task's start URL is a `sandbox:/PAGE`
URL; `pixelpilot ls tasks` lists the tasks.
"""

from pixelpilot.env.browser.sandbox.catalogue import SANDBOX_TASKS, TASKS, get_task, list_tasks
from pixelpilot.env.browser.sandbox.server import SANDBOX_SCHEME, SandboxServer, is_sandbox_url

__all__ = [
    "SANDBOX_SCHEME",
    "SANDBOX_TASKS",
    "TASKS",
    "SandboxServer",
    "get_task",
    "is_sandbox_url",
    "list_tasks",
]
