"""The accessibility tree of an Android screen: reading it with `uiautomator dump` and parsing it.

`uiautomator dump FILE` (on phones, emulators and the test device) writes the view hierarchy
as XML: `<hierarchy rotation="R">` with nested `<node>` elements whose `bounds` are
`[left,top][right,bottom]` in device pixels (right and bottom exclusive). AndroidEnv reads it
for each observation when the `a11y` option is on (a dump takes about a second on a phone) and
hands it out as `AndroidObservation.a11y`, the XML text unchanged. `parse_nodes` turns it into
UiNode boxes for scorers and policies that want elements rather than XML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass

from pixelpilot.actions import Observation

_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")


@dataclass(frozen=True)
class AndroidObservation(Observation):
    """An Observation with the screen's accessibility tree.

    Attributes:
        a11y: the `uiautomator dump` XML of the screen the screenshot shows, or None when the
            `a11y` option is off or the device could not produce a dump (it refuses while the
            screen keeps changing: "could not get idle state").
    """

    a11y: str | None = None


@dataclass(frozen=True)
class UiNode:
    """One view of the hierarchy.

    Attributes:
        box: (left, top, right, bottom) in device pixels, right and bottom exclusive.
        text, description, resource_id, class_name, package: the view's labels.
        clickable, checked, selected, focused, scrollable: its flags.
        depth: 0 for a window's root view.
    """

    box: tuple[int, int, int, int]
    text: str
    description: str
    resource_id: str
    class_name: str
    package: str
    clickable: bool
    checked: bool
    selected: bool
    focused: bool
    scrollable: bool
    depth: int


def read_tree(read: Callable[[str], str], scratch_dir: str) -> str | None:
    """Dump the current screen's hierarchy and return the XML, or None when the device made none.

    Args:
        read: runs a command on the device and returns its output.
        scratch_dir: a device directory the shell user may write (the dump is removed after).
    """
    path = f"{scratch_dir}/window_dump.xml"
    output = read(f"uiautomator dump {path} >/dev/null 2>&1; cat {path} 2>/dev/null; rm -f {path}")
    return extract_hierarchy(output)


def extract_hierarchy(text: str) -> str | None:
    """The `<?xml ...><hierarchy>...</hierarchy>` part of `text` (None when there is none)."""
    start = text.find("<?xml")
    if start < 0:
        start = text.find("<hierarchy")
    end = text.rfind("</hierarchy>")
    if start < 0 or end < start:
        return None
    return text[start : end + len("</hierarchy>")]


def parse_nodes(xml: str) -> list[UiNode]:
    """Every node of a `uiautomator dump`, in document order (parents before children).

    Raises:
        ValueError: `xml` is not a uiautomator hierarchy.
    """
    try:
        root = ElementTree.fromstring(xml.encode())
    except ElementTree.ParseError as exc:
        raise ValueError(f"not a uiautomator dump: {exc}") from None
    if root.tag != "hierarchy":
        raise ValueError(f"not a uiautomator dump: the root element is <{root.tag}>")
    nodes: list[UiNode] = []

    def walk(element: ElementTree.Element, depth: int) -> None:
        for child in element:
            if child.tag != "node":
                continue
            found = _BOUNDS.fullmatch(child.get("bounds", ""))
            if found is not None:
                x1, y1, x2, y2 = (int(v) for v in found.groups())
                nodes.append(
                    UiNode(
                        box=(x1, y1, x2, y2),
                        text=child.get("text", ""),
                        description=child.get("content-desc", ""),
                        resource_id=child.get("resource-id", ""),
                        class_name=child.get("class", ""),
                        package=child.get("package", ""),
                        clickable=child.get("clickable") == "true",
                        checked=child.get("checked") == "true",
                        selected=child.get("selected") == "true",
                        focused=child.get("focused") == "true",
                        scrollable=child.get("scrollable") == "true",
                        depth=depth,
                    )
                )
            walk(child, depth + 1)

    walk(root, 0)
    return nodes
