"""The test device's shell: which commands a line runs, with which argv, and what it prints.

The record must show every command a line would run on a real `sh -c`, so that the escaping
tests can prove nothing but the intended command ran."""

from __future__ import annotations

import base64
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixelpilot.env.android.testdevice.commands import android_input_text
from pixelpilot.env.android.testdevice.shell import Invocation, Shell
from pixelpilot.env.android.text import (
    adbkeyboard_commands,
    input_text_commands,
    is_plain_ascii,
    shell_quote,
)


def _echo(inv: Invocation) -> int:
    inv.out(" ".join(inv.argv[1:]) + "\n")
    return 0


def _cat(inv: Invocation) -> int:
    inv.write(inv.stdin)
    return 0


def make_shell() -> Shell:
    return Shell(
        {"echo": _echo, "cat": _cat, "true": lambda inv: 0, "false": lambda inv: 1},
        threading.RLock(),
    )


def argvs(shell: Shell) -> list[tuple[str, ...]]:
    return [r.argv for r in shell.records]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo a   b", [("echo", "a", "b")]),
        ("echo 'a  b' \"c d\" e\\ f", [("echo", "a  b", "c d", "e f")]),
        ("echo 'it'\\''s'", [("echo", "it's")]),
        ('echo "a\\"b\\$c\\\\d"', [("echo", 'a"b$c\\d')]),
        ("echo '' \"\" x", [("echo", "", "", "x")]),
        ("echo a; echo b\necho c", [("echo", "a"), ("echo", "b"), ("echo", "c")]),
        ("true && echo yes || echo no", [("true",), ("echo", "yes")]),
        ("false && echo yes || echo no", [("false",), ("echo", "no")]),
        ("echo a | cat", [("echo", "a"), ("cat",)]),
        ("echo $(echo inner)x", [("echo", "inner"), ("echo", "innerx")]),
        ("echo `echo back`", [("echo", "back"), ("echo", "back")]),
        ("(echo g1; echo g2) | cat", [("echo", "g1"), ("echo", "g2"), ("cat",)]),
        ("echo a & echo b", [("echo", "a"), ("echo", "b")]),
        ("echo visible # echo hidden", [("echo", "visible")]),
        ("echo $HOME ${USER} $?", [("echo", "/", "shell", "0")]),
        ("X='a b'; echo $X", [("echo", "a", "b")]),
        ('X="a b"; echo "$X"', [("echo", "a b")]),
        ("echo x > /dev/null 2>&1", [("echo", "x")]),
        ("echo long \\\nline", [("echo", "long", "line")]),
    ],
)
def test_commands_and_argv(line: str, expected: list[tuple[str, ...]]) -> None:
    shell = make_shell()
    shell.run(line)
    assert argvs(shell) == expected


def test_output_status_and_redirections() -> None:
    shell = make_shell()
    assert shell.run("echo a; echo b | cat") == b"a\nb\n"
    assert shell.run("echo hidden > /dev/null; echo shown") == b"shown\n"
    assert shell.run("echo saved > /data/local/tmp/f; cat < /data/local/tmp/f") == b"saved\n"
    assert shell.run("reboot now") == b"/system/bin/sh: reboot: not found\n"
    assert shell.records[-1].argv == ("reboot", "now") and shell.records[-1].status == 127


@pytest.mark.parametrize(
    "line",
    [
        "echo 'unterminated",
        'echo "open',
        "echo $(echo",
        "echo `x",
        "; echo",
        "echo ( x",
        "cat <<EOF",
        "echo ${X:-y}",
        "echo >",
    ],
)
def test_syntax_errors_run_nothing(line: str) -> None:
    shell = make_shell()
    assert shell.run(line).startswith(b"/system/bin/sh: syntax error")
    assert shell.records == []


def test_every_injection_attempt_is_visible_in_the_record() -> None:
    shell = make_shell()
    shell.run("echo a; reboot")
    shell.run("echo $(reboot)")
    shell.run("echo `reboot`")
    shell.run("echo a && reboot || reboot")
    shell.run("echo a | reboot")
    shell.run("echo a\nreboot")
    names = [argv[0] for argv in argvs(shell)]
    assert names.count("reboot") == 7  # the first reboot is "not found", so `|| reboot` runs


def _typed_through_device(commands: list[str]) -> str:
    """What the device's `input text` would type, running `commands` through the real shell."""
    typed: list[str] = []

    def input_command(inv: Invocation) -> int:
        if inv.argv[1] == "text":
            typed.append(android_input_text(inv.argv[2]))
        elif inv.argv[1:] == ["keyevent", "KEYCODE_ENTER"]:
            typed.append("\n")
        else:
            raise AssertionError(inv.argv)
        return 0

    shell = Shell({"input": input_command}, threading.RLock())
    shell.run(" && ".join(commands))
    assert all(r.argv[0] == "input" for r in shell.records), argvs(shell)
    assert len(shell.records) == len(commands)
    return "".join(typed)


# printable ASCII and newlines, with the troublemakers ("%s", quotes) made common
ASCII_TEXT = st.lists(
    st.sampled_from([chr(c) for c in range(32, 127)] + ["\n", "%s", "'", "%", " "]),
    min_size=1,
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ASCII_TEXT)
def test_input_text_escaping_round_trips_through_sh_and_input(text: str) -> None:
    assert is_plain_ascii(text)
    assert _typed_through_device(input_text_commands(text)) == text


def test_escaping_of_the_nastiest_text() -> None:
    text = '\'; reboot; echo "$(id)" `rm -rf /` && a || b | c & d > x < y \\ $HOME ~ * %s %% 5%\n#'
    commands = input_text_commands(text)
    assert _typed_through_device(commands) == text
    assert commands[0].startswith("input text '")


def test_long_text_is_split_into_bounded_commands() -> None:
    text = "word " * 300
    commands = input_text_commands(text, chunk=100)
    assert all(len(c) < 250 for c in commands) and len(commands) >= 15
    assert _typed_through_device(commands) == text


# any text a command line can carry: no NUL (C strings) and no lone surrogates (not UTF-8)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
        min_size=1,
        max_size=40,
    )
)
def test_shell_quote_is_one_literal_word(text: str) -> None:
    shell = make_shell()
    shell.run("echo " + shell_quote(text))
    assert argvs(shell) == [("echo", text)]


def test_unicode_goes_through_base64_broadcasts_only() -> None:
    text = "héllo 世界 🙂 'x' $(id)"
    assert not is_plain_ascii(text)
    with pytest.raises(ValueError):
        input_text_commands(text)
    (command,) = adbkeyboard_commands(text)
    shell = Shell({}, threading.RLock())
    shell.run(command)
    argv = shell.records[0].argv
    assert argv[:5] == ("am", "broadcast", "-a", "ADB_INPUT_B64", "--es") and len(argv) == 7
    assert base64.b64decode(argv[6]).decode() == text
