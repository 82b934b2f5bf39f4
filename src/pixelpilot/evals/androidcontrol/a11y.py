"""Android accessibility forests (android_env's `AndroidAccessibilityForest`), decoded by hand.

AndroidControl stores one serialized forest per screenshot. The fields read here, with the
numbers from android_env's `proto/a11y/*.proto`:

    AndroidAccessibilityForest  { repeated AndroidAccessibilityWindowInfo windows = 1; }
    AndroidAccessibilityWindowInfo { ProtoRect bounds_in_screen = 1; int32 id = 3;
                                     int32 layer = 4; WindowType window_type = 6;
                                     AndroidAccessibilityTree tree = 11; }
    AndroidAccessibilityTree    { repeated AndroidAccessibilityNodeInfo nodes = 1; }
    AndroidAccessibilityNodeInfo { ProtoRect bounds_in_screen = 2; string class_name = 3;
                                   string content_description = 4; string text = 7;
                                   string view_id_resource_name = 10; bool is_clickable = 14;
                                   bool is_visible_to_user = 23; }
    ProtoRect { int32 left = 1; int32 top = 2; int32 right = 3; int32 bottom = 4; }

Decoding by hand keeps android_env (and its dependencies) out of the install; the scorer only
needs boxes and labels. `windows_from_uiautomator` gives a live device's `uiautomator dump` the
same shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixelpilot.actions import Box
from pixelpilot.evals.androidcontrol.tfrecord import (
    LENGTH,
    VARINT,
    RecordError,
    as_int32,
    iter_fields,
)


@dataclass(frozen=True)
class Node:
    """One accessibility node: its screen box (device pixels, inclusive edges) and labels."""

    box: Box
    text: str
    description: str
    class_name: str
    resource_id: str
    clickable: bool
    visible: bool

    @property
    def area(self) -> float:
        return max(self.box.width, 0) * max(self.box.height, 0)


@dataclass(frozen=True)
class Window:
    """One window of the forest; a higher `layer` is drawn in front."""

    id: int
    layer: int
    window_type: int
    box: Box | None
    nodes: tuple[Node, ...]


def _text(value: int | memoryview) -> str:
    if isinstance(value, int):
        raise RecordError("expected a string field, found a number")
    return bytes(value).decode("utf-8", errors="replace")


def _rect(buf: memoryview) -> Box:
    sides = {1: 0, 2: 0, 3: 0, 4: 0}
    for number, wire, value in iter_fields(buf):
        if number in sides and wire == VARINT and isinstance(value, int):
            sides[number] = as_int32(value)
    return Box(sides[1], sides[2], sides[3], sides[4])


def _node(buf: memoryview) -> Node:
    box = Box(0, 0, 0, 0)
    labels = {3: "", 4: "", 7: "", 10: ""}
    flags = {14: False, 23: False}
    for number, wire, value in iter_fields(buf):
        if number == 2 and wire == LENGTH and isinstance(value, memoryview):
            box = _rect(value)
        elif number in labels and wire == LENGTH:
            labels[number] = _text(value)
        elif number in flags and wire == VARINT and isinstance(value, int):
            flags[number] = bool(value)
    return Node(
        box=box,
        text=labels[7],
        description=labels[4],
        class_name=labels[3],
        resource_id=labels[10],
        clickable=flags[14],
        visible=flags[23],
    )


def _window(buf: memoryview) -> Window:
    ints = {3: 0, 4: 0, 6: 0}
    box: Box | None = None
    nodes: list[Node] = []
    for number, wire, value in iter_fields(buf):
        if number == 1 and wire == LENGTH and isinstance(value, memoryview):
            box = _rect(value)
        elif number in ints and wire == VARINT and isinstance(value, int):
            ints[number] = as_int32(value)
        elif number == 11 and wire == LENGTH and isinstance(value, memoryview):
            for tnum, twire, tval in iter_fields(value):
                if tnum == 1 and twire == LENGTH and isinstance(tval, memoryview):
                    nodes.append(_node(tval))
    return Window(id=ints[3], layer=ints[4], window_type=ints[6], box=box, nodes=tuple(nodes))


def parse_forest(payload: bytes | memoryview) -> tuple[Window, ...]:
    """Decode a serialized AndroidAccessibilityForest into its windows.

    Raises:
        RecordError: the bytes are not a well-formed message.
    """
    windows = []
    for number, wire, value in iter_fields(payload):
        if number == 1 and wire == LENGTH and isinstance(value, memoryview):
            windows.append(_window(value))
    return tuple(windows)


def _window_contains(window: Window, x: float, y: float) -> bool:
    if window.box is not None and window.box.width > 0 and window.box.height > 0:
        return window.box.contains(x, y)
    return any(node.visible and node.box.contains(x, y) for node in window.nodes)


def boxes_at(windows: tuple[Window, ...], x: float, y: float) -> tuple[Box, ...]:
    """Candidate target boxes for a tap at (x, y), smallest first.

    Only the front-most window containing the point counts (a dialog hides the app below it).
    In it: the smallest visible node containing the point, and the smallest clickable one
    (the element that receives the tap) when that is a different box. Empty when no node
    contains the point.
    """
    front = [w for w in windows if _window_contains(w, x, y)]
    if not front:
        return ()
    window = max(front, key=lambda w: w.layer)
    hits = [n for n in window.nodes if n.visible and n.area > 0 and n.box.contains(x, y)]
    if not hits:
        return ()
    smallest = min(hits, key=lambda n: n.area)
    boxes = [smallest.box]
    clickable = [n for n in hits if n.clickable]
    if clickable:
        target = min(clickable, key=lambda n: n.area).box
        if target != smallest.box:
            boxes.append(target)
    return tuple(boxes)


def boxes_labelled(windows: tuple[Window, ...], name: str) -> tuple[Box, ...]:
    """Boxes of visible nodes labelled `name` (an app icon for open_app), smallest first.

    A node matches when its text or content description equals `name` ignoring case and
    surrounding spaces; when none does, nodes whose label contains `name` are used instead.
    """
    wanted = name.strip().lower()
    if not wanted:
        return ()
    nodes = [n for w in windows for n in w.nodes if n.visible and n.area > 0]
    labels = [(n, (n.text.strip().lower(), n.description.strip().lower())) for n in nodes]
    exact = [n for n, pair in labels if wanted in pair]
    chosen = exact or [n for n, pair in labels if any(wanted in label for label in pair)]
    return tuple(n.box for n in sorted(chosen, key=lambda n: n.area))


def windows_from_uiautomator(xml: str) -> tuple[Window, ...]:
    """The windows of a device's `uiautomator dump` (AndroidEnv's `a11y` option, the test
    device), in the shape `boxes_at` and `boxes_labelled` take, so the box protocol can score
    actions on a live device's screen as it scores AndroidControl's stored forests.

    Each top-level node of the dump is a window, later ones in front (uiautomator lists the
    app before the system bars); bounds map to boxes as ProtoRect's sides do, and every node is
    visible (uiautomator dumps only what is on screen).

    Raises:
        RecordError: `xml` is not a uiautomator hierarchy.
    """
    from pixelpilot.env.android.tree import parse_nodes

    try:
        nodes = parse_nodes(xml)
    except ValueError as exc:
        raise RecordError(str(exc)) from None
    groups: list[list[Node]] = []
    for ui in nodes:
        if ui.depth == 0:
            groups.append([])
        if groups:
            groups[-1].append(
                Node(
                    box=Box(*ui.box),
                    text=ui.text,
                    description=ui.description,
                    class_name=ui.class_name,
                    resource_id=ui.resource_id,
                    clickable=ui.clickable,
                    visible=True,
                )
            )
    return tuple(
        Window(id=index, layer=index, window_type=1, box=group[0].box, nodes=tuple(group))
        for index, group in enumerate(groups)
    )
