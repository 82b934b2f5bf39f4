"""The architecture rules of design.md, checked on the source: imports point one way (actions <-
env, model <- agent <- evals <- cli), files stay readable (at most 400 lines), and every
subpackage says in its docstring what lives there."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pixelpilot"
SHARED = {"errors", "registry", "checks", "_extras", "versions", "__init__"}
# layer -> the pixelpilot layers it may import (besides itself and the shared modules)
ALLOWED: dict[str, set[str]] = {
    "actions": set(),
    "env": {"actions"},
    "model": {"actions"},
    "agent": {"actions", "env", "model"},
    "evals": {"actions", "env", "model", "agent"},
    "cli": {"actions", "env", "model", "agent", "evals"},
}
MAX_LINES = 400


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "pixelpilot"]


def test_imports_point_one_way() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        own = relative.parts[0].removesuffix(".py")
        for line, name in _imports(path):
            target = _layer(name)
            if target in SHARED or target == own or name == "pixelpilot":
                continue
            if own in SHARED and own != "__init__":
                wrong.append(f"{relative}:{line} imports {name} (shared modules import no layer)")
            elif own in ALLOWED and target not in ALLOWED[own]:
                wrong.append(f"{relative}:{line} imports {name} ({own} may not import {target})")
    assert wrong == []


def test_no_file_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_subpackage_has_a_docstring() -> None:
    missing = [
        str(init.parent.relative_to(PACKAGE))
        for init in PACKAGE.rglob("__init__.py")
        if ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []
