"""DesktopEnv's keyboard on a real Xvfb: Unicode text typed into Tk widgets and read back from
them, key chords as the window receives them, and refusals that reach nothing."""

from __future__ import annotations

import threading
import time

import pytest

from pixelpilot.actions import Click, Key, Size, Type
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.env.desktop.keys import char_keysym
from pixelpilot.env.desktop.x11 import connect
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import ActionError, Interrupted
from tests.env.desktop.probe import ENTRY_BOX, TEXT_BOX
from tests.env.desktop.support import Probe, desktop_fixtures, xdotool

pytestmark = pytest.mark.desktop

CORPUS = (
    "Crème brûlée à Noël — naïve façade, Ærøskøbing, São Paulo, Łódź, ẞ ß\n"
    "日本語の文章、中文字符、한국어 텍스트\n"
    "Привет, мир! Ёлка; Ελληνικά; עברית; العربية\n"
    "<>#@{}[]|\\~^`$%&*()_+-=/?!:;,.\n"
    "'single' \"double\" “curly” ‘quotes’ «guillemets»\n"
    "tab\tseparated\tcolumns\n"
    "  leading spaces, trailing spaces  \n"
    "emoji 😀 and math ∑ √ ∞ ≤ ≥ → €\n"
    "\n"
    "last line after a blank one"
)


display_fixture, probe_fixture, env_fixture = desktop_fixtures(Size(1280, 800), type_interval_ms=2)


def centre(box: tuple[int, int, int, int]) -> Click:
    return Click(x=(box[0] + box[2]) // 2, y=(box[1] + box[3]) // 2)


@pytest.fixture
def text_widget(env: DesktopEnv, probe: Probe) -> Probe:
    """The Text widget, focused by clicking it through the environment, and empty."""
    env.execute(centre(TEXT_BOX))
    probe.request("clear")
    return probe


@pytest.fixture
def entry_widget(env: DesktopEnv, probe: Probe) -> Probe:
    env.execute(centre(ENTRY_BOX))
    probe.request("clear")
    return probe


def test_unicode_corpus_arrives_exactly(env: DesktopEnv, text_widget: Probe) -> None:
    result = env.execute(Type(text=CORPUS))
    assert text_widget.wait_text("text", CORPUS) == CORPUS
    assert result.detail.startswith(f"xtest type {len(CORPUS)} characters")


def test_many_distinct_missing_characters_survive_rebinding(
    env: DesktopEnv, text_widget: Probe
) -> None:
    # 240 distinct characters none of which is on the keyboard map: the spare keycodes are
    # rebound many times, and every character must still arrive as itself.
    text = "".join(chr(0x4E00 + 7 * i) for i in range(120)) + "".join(
        chr(0xAC00 + 11 * i) for i in range(120)
    )
    result = env.execute(Type(text=text))
    assert text_widget.wait_text("text", text) == text
    assert "binding batches" in result.detail


@pytest.mark.parametrize(
    "text",
    [
        "user@example.com",
        "<script>alert('x')</script>",
        'say "hi" & {go}',
        "Zürich 東京 Москва",
        "-starts with a dash",
        " ",
    ],
)
def test_single_lines_into_an_entry(env: DesktopEnv, entry_widget: Probe, text: str) -> None:
    env.execute(Type(text=text))
    assert entry_widget.wait_text("entry", text) == text


def test_newlines_arrive_as_enter(env: DesktopEnv, text_widget: Probe) -> None:
    mark = text_widget.mark()
    env.execute(Type(text="a\nb"))
    assert text_widget.wait_text("text", "a\nb") == "a\nb"
    keys = [e["keysym"] for e in text_widget.since(mark, "key")]
    assert keys == ["a", "Return", "b"]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_each_newline_spelling_types_one_enter(
    env: DesktopEnv, text_widget: Probe, newline: str
) -> None:
    mark = text_widget.mark()
    env.execute(Type(text=f"a{newline}b{newline}{newline}c"))
    assert text_widget.wait_text("text", "a\nb\n\nc") == "a\nb\n\nc"
    keys = [e["keysym"] for e in text_widget.since(mark, "key")]
    assert keys == ["a", "Return", "b", "Return", "Return", "c"]


def test_typing_appends_and_backspace_deletes(env: DesktopEnv, text_widget: Probe) -> None:
    env.execute(Type(text="abc"))
    env.execute(Key(keys=("backspace",)))
    assert text_widget.wait_text("text", "ab") == "ab"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bell\x07", "U\\+0007 at position 4: it is a control character"),
        ("nul\x00", "U\\+0000"),
        ("unassigned \u0378", "U\\+0378.*unassigned"),
    ],
)
def test_untypable_text_is_refused_before_anything_is_typed(
    env: DesktopEnv, text_widget: Probe, text: str, message: str
) -> None:
    mark = text_widget.mark()
    with pytest.raises(ActionError, match=message):
        env.execute(Type(text=text))
    time.sleep(0.1)
    assert text_widget.since(mark, "key") == []
    assert text_widget.request("text") == ""


def test_failsafe_stops_typing_midway(
    env: DesktopEnv, text_widget: Probe, display: VirtualDisplay
) -> None:
    text = "abcdefghij" * 150
    outcome: list[BaseException] = []

    def type_it() -> None:
        try:
            env.execute(Type(text=text))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=type_it)
    worker.start()
    try:
        text_widget.wait_for(lambda e: e["type"] == "key", since=text_widget.mark())
        time.sleep(0.2)
        xdotool(display.name, "mousemove", "0", "0")  # the user takes over
        worker.join(timeout=30)
    finally:
        xdotool(display.name, "mousemove", "640", "300")
    assert len(outcome) == 1 and isinstance(outcome[0], Interrupted), outcome
    typed = text_widget.request("text")
    assert 0 < len(typed) < len(text)
    assert text.startswith(typed)


def key_events(probe: Probe, mark: int) -> list[tuple[str, str]]:
    return [(e["type"], e["keysym"]) for e in probe.since(mark) if e["type"] in ("key", "keyup")]


def wait_keyups(probe: Probe, mark: int, count: int) -> None:
    probe.wait_for(lambda e: len(probe.since(mark, "keyup")) >= count, since=mark)


def test_chord_presses_in_order_and_releases_in_reverse(env: DesktopEnv, probe: Probe) -> None:
    mark = probe.mark()
    result = env.execute(Key(keys=("ctrl", "shift", "a")))
    wait_keyups(probe, mark, 3)
    assert key_events(probe, mark) == [
        ("key", "Control_L"),
        ("key", "Shift_L"),
        ("key", "A"),
        ("keyup", "A"),
        ("keyup", "Shift_L"),
        ("keyup", "Control_L"),
    ]
    assert result.detail == "xtest key Control_L+Shift_L+a"


@pytest.mark.parametrize(
    ("keys", "keysym"),
    [
        (("enter",), "Return"),
        (("Escape",), "Escape"),
        (("tab",), "Tab"),
        (("backspace",), "BackSpace"),
        (("delete",), "Delete"),
        (("pagedown",), "Next"),
        (("up",), "Up"),
        (("f5",), "F5"),
        (("menu",), "Menu"),
        (("super",), "Super_L"),
        (("alt", "f4"), "F4"),
        (("ctrl", "c"), "c"),
        # not on Xvfb's keyboard map: bound to a spare keycode for the chord
        (("f13",), "F13"),
        (("volume_up",), 0x1008FF13),  # XF86AudioRaiseVolume, a keysym Tk 8.6 cannot name
        (("ctrl", "é"), "eacute"),
    ],
)
def test_named_keys_reach_the_window(
    env: DesktopEnv, probe: Probe, keys: tuple[str, ...], keysym: str | int
) -> None:
    mark = probe.mark()
    env.execute(Key(keys=keys))
    wait_keyups(probe, mark, len(keys))
    pressed = [e for e in probe.since(mark, "key")]
    assert len(pressed) == len(keys)
    assert pressed[-1]["num" if isinstance(keysym, int) else "keysym"] == keysym


def test_shifted_character_holds_shift(env: DesktopEnv, probe: Probe) -> None:
    mark = probe.mark()
    result = env.execute(Key(keys=("!",)))
    wait_keyups(probe, mark, 2)
    assert key_events(probe, mark) == [
        ("key", "Shift_L"),
        ("key", "exclam"),
        ("keyup", "exclam"),
        ("keyup", "Shift_L"),
    ]
    assert result.detail == "xtest key Shift_L+!"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (("call",), "'call' does not exist on a desktop keyboard"),
        (("ctrl", "notification"), "'notification' does not exist on a desktop keyboard"),
    ],
)
def test_phone_keys_are_refused(
    env: DesktopEnv, probe: Probe, keys: tuple[str, ...], message: str
) -> None:
    mark = probe.mark()
    with pytest.raises(ActionError, match=message):
        env.execute(Key(keys=keys))
    time.sleep(0.1)
    assert key_events(probe, mark) == []


def test_bindings_for_missing_characters_are_undone_on_close(
    display: VirtualDisplay, probe: Probe
) -> None:
    keysym = char_keysym("Œ")

    def bound() -> bool:
        conn = connect(display.name)
        try:
            info = conn.display.info
            mapping = conn.get_keyboard_mapping(
                info.min_keycode, info.max_keycode - info.min_keycode + 1
            )
            return any(keysym in syms for syms in mapping)
        finally:
            conn.close()

    assert not bound()
    with DesktopEnv(DesktopConfig(display=display.name)) as other:
        other.execute(centre(ENTRY_BOX))
        probe.request("clear")
        other.execute(Type(text="Œuvre"))
        assert probe.wait_text("entry", "Œuvre") == "Œuvre"
        assert bound()
    assert not bound()
