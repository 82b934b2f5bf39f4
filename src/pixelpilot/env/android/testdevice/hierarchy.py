"""`uiautomator dump` for the test device: the view hierarchy of what is on screen, as XML.

The format is uiautomator's: `<hierarchy rotation="R">` holding `<node>` elements whose
attributes are, in this order, index, text, resource-id, class, package, content-desc,
checkable, checked, clickable, enabled, focusable, focused, scrollable, long-clickable,
password, selected and bounds (`[left,top][right,bottom]`, device pixels, right and bottom
exclusive as in android.graphics.Rect). The foreground app's window comes first, then the
system UI (navigation buttons), as a dump of several windows shows them. Every node stands for a
real on-screen widget of the virtual phone (the same boxes the phone hit-tests), so a box read
from the dump is where a tap lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from pixelpilot.env.android.testdevice.apps import ContactsApp, Launcher
from pixelpilot.env.android.testdevice.phone import VirtualPhone
from pixelpilot.env.android.testdevice.ui import Widget

DUMP_PATH = "/sdcard/window_dump.xml"
_CLASSES = {
    "icon": "android.widget.TextView",
    "button": "android.widget.Button",
    "toggle": "android.widget.LinearLayout",
    "field": "android.widget.EditText",
    "row": "android.widget.TextView",
    "text": "android.widget.TextView",
}


@dataclass
class Node:
    """One view: its class, box (x1, y1, x2, y2 exclusive), labels, flags and children."""

    cls: str
    box: tuple[int, int, int, int]
    package: str
    text: str = ""
    resource_id: str = ""
    description: str = ""
    flags: set[str] = field(default_factory=set)
    children: list[Node] = field(default_factory=list)

    def xml(self, index: int) -> str:
        x1, y1, x2, y2 = self.box
        flag_names = (
            "checkable",
            "checked",
            "clickable",
            "enabled",
            "focusable",
            "focused",
            "scrollable",
            "long-clickable",
            "password",
            "selected",
        )
        attrs = [
            ("index", str(index)),
            ("text", self.text),
            ("resource-id", self.resource_id),
            ("class", self.cls),
            ("package", self.package),
            ("content-desc", self.description),
            *((name, "true" if name in self.flags else "false") for name in flag_names),
            ("bounds", f"[{x1},{y1}][{x2},{y2}]"),
        ]
        head = "<node " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs)
        if not self.children:
            return head + " />"
        inner = "".join(child.xml(i) for i, child in enumerate(self.children))
        return f"{head}>{inner}</node>"


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "view"


def _exclusive(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    return x1, y1, x2 + 1, y2 + 1


def _widget_node(phone: VirtualPhone, package: str, w: Widget) -> Node:
    kind, _, name = w.key.partition(":")
    node = Node(
        _CLASSES[w.kind],
        _exclusive(w.box),
        package,
        resource_id="" if w.kind == "icon" else f"{package}:id/{kind}_{_slug(name)}",
        flags={"enabled"},
    )
    if w.kind == "icon":
        node.text = node.description = w.label
        node.flags |= {"clickable", "long-clickable", "focusable"}
    elif w.kind == "button":
        node.text = w.label
        node.flags |= {"clickable", "focusable"}
    elif w.kind == "toggle":
        node.flags |= {"clickable", "focusable"}
        x1, y1, x2, y2 = node.box
        middle = (y1 + y2) // 2
        title = Node(
            "android.widget.TextView",
            (x1 + phone.screen.px(60), y1, x2 - phone.screen.px(220), y2),
            package,
            text=w.label,
            resource_id="android:id/title",
            flags={"enabled"},
        )
        switch = Node(
            "android.widget.Switch",
            (
                x2 - phone.screen.px(200),
                middle - phone.screen.px(40),
                x2 - phone.screen.px(50),
                middle + phone.screen.px(40),
            ),
            package,
            text="ON" if w.value == "on" else "OFF",
            resource_id="android:id/switch_widget",
            flags={"enabled", "checkable"} | ({"checked"} if w.value == "on" else set()),
        )
        node.children = [title, switch]
    elif w.kind == "field":
        node.text = w.value or w.label
        node.flags |= {"clickable", "focusable", "long-clickable"}
        if phone.focus == w.key:
            node.flags.add("focused")
    elif w.kind == "row":
        node.text = w.label
        node.flags |= {"clickable", "focusable", "long-clickable"}
        if w.value == "selected":
            node.flags.add("selected")
    else:
        node.text = w.label
    return node


def _app_window(phone: VirtualPhone) -> Node:
    screen = phone.screen
    app = phone.top
    w, h = screen.size
    root = Node("android.widget.FrameLayout", (0, 0, w, h), app.package, flags={"enabled"})
    if not isinstance(app, Launcher) and not app.fullscreen:
        root.children.append(
            Node(
                "android.widget.TextView",
                (screen.px(60), screen.status_height, w, screen.content_top),
                app.package,
                text=app.label,
                resource_id=f"{app.package}:id/title",
                flags={"enabled"},
            )
        )
    widgets = [_widget_node(phone, app.package, widget) for widget in app.widgets(screen)]
    if isinstance(app, ContactsApp):
        area = (0, screen.content_top, w, screen.content_bottom + 1)
        root.children.append(
            Node(
                "androidx.recyclerview.widget.RecyclerView",
                area,
                app.package,
                resource_id=f"{app.package}:id/list",
                flags={"enabled", "focusable", "scrollable"},
                children=widgets,
            )
        )
    else:
        root.children += widgets
    return root


def _navigation(phone: VirtualPhone) -> Node:
    w, h = phone.screen.size
    top = h - phone.screen.nav_height
    bar = Node(
        "android.widget.FrameLayout", (0, top, w, h), "com.android.systemui", flags={"enabled"}
    )
    for i, (name, description) in enumerate(
        (("back", "Back"), ("home", "Home"), ("recent_apps", "Overview"))
    ):
        bar.children.append(
            Node(
                "android.widget.ImageView",
                (w * i // 3, top, w * (i + 1) // 3, h),
                "com.android.systemui",
                resource_id=f"com.android.systemui:id/{name}",
                description=description,
                flags={"enabled", "clickable", "focusable", "long-clickable"},
            )
        )
    return bar


def dump(phone: VirtualPhone) -> str:
    """The XML `uiautomator dump` writes for the phone's current screen (empty when off)."""
    windows: list[Node] = []
    if phone.screen_on:
        windows.append(_app_window(phone))
        if not phone.top.fullscreen:
            windows.append(_navigation(phone))
    body = "".join(node.xml(i) for i, node in enumerate(windows))
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
        f'<hierarchy rotation="{phone.rotation}">{body}</hierarchy>'
    )
