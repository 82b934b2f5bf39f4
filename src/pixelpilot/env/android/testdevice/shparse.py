"""A small POSIX shell parser: enough of `sh -c` to run what adb clients send, and to make
anything that would run a second command visible.

adbd hands every `shell:` command line to `/system/bin/sh -c`. This parser understands the parts
of the shell grammar that decide WHICH commands run and WITH WHICH arguments: single and double
quotes, backslash escapes, line continuations, comments, the operators `;` `&` `&&` `||` `|`,
newlines, `( ... )` groups, redirections, variable expansion (`$NAME`, `${NAME}`, `$?`) and
command substitution (`$(...)` and backquotes), and arithmetic expansion (`$((...))`, evaluated
by `arith.py`). Compound commands (`if`, `for`, `while`, `case`, functions) are not interpreted:
their words run as ordinary commands that are not found, so they still show up in the device's
command record. Globs are left as written (no files match). Here-documents are refused with a
syntax error, and nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BLANKS = " \t"
SEPARATORS = ";&|()<>\n"
SPECIAL_VARS = "?$#!@*-0123456789"


class ShellSyntaxError(Exception):
    """The command line does not parse; a real sh would run none of it either."""


@dataclass(frozen=True)
class Part:
    """A piece of a word: literal text, a variable, a command substitution, or arithmetic.

    `quoted` parts are never split into several fields; a quoted empty literal keeps an empty
    word alive (`''` is an empty argument).
    """

    kind: Literal["lit", "var", "sub", "arith"]
    text: str
    quoted: bool
    script: tuple[AndOr, ...] = ()


@dataclass(frozen=True)
class Word:
    parts: tuple[Part, ...]
    source: str


@dataclass(frozen=True)
class Redirect:
    fd: int
    op: str
    target: Word


@dataclass(frozen=True)
class Simple:
    assignments: tuple[tuple[str, Word], ...]
    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...]


@dataclass(frozen=True)
class Group:
    script: tuple[AndOr, ...]


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Simple | Group, ...]


@dataclass(frozen=True)
class AndOr:
    """Pipelines joined by `&&` / `||`; the first connector is ""."""

    items: tuple[tuple[str, Pipeline], ...] = field(default_factory=tuple)


def parse(source: str) -> tuple[AndOr, ...]:
    """Parse a whole `sh -c` command line.

    Raises:
        ShellSyntaxError: unterminated quotes or substitutions, a stray operator, or an
            unsupported construct (here-documents, `${X:-y}` forms).
    """
    parser = _Parser(source, 0)
    script = parser.script(closing=None)
    return script


def _is_name(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and text.replace("_", "a").isalnum()


class _Parser:
    def __init__(self, src: str, start: int) -> None:
        self.src = src
        self.i = start

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.src[j] if j < len(self.src) else ""

    def error(self, what: str) -> ShellSyntaxError:
        return ShellSyntaxError(f"syntax error at offset {self.i}: {what}")

    def skip_blanks(self, *, newlines: bool = False) -> None:
        while self.i < len(self.src):
            c = self.src[self.i]
            if c in BLANKS or (newlines and c == "\n"):
                self.i += 1
            elif self.src.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                end = self.src.find("\n", self.i)
                self.i = len(self.src) if end < 0 else end
            else:
                return

    def script(self, closing: str | None) -> tuple[AndOr, ...]:
        items: list[AndOr] = []
        while True:
            self.skip_blanks(newlines=True)
            c = self.peek()
            if not c:
                if closing:
                    raise self.error(f"missing {closing!r}")
                return tuple(items)
            if c == closing:
                self.i += 1
                return tuple(items)
            if c in ";&|)":
                raise self.error(f"unexpected {c!r}")
            items.append(self.and_or())
            self.skip_blanks()
            c = self.peek()
            if c in (";", "&", "\n"):
                self.i += 1
            elif c and c != closing:
                raise self.error(f"unexpected {c!r}")

    def and_or(self) -> AndOr:
        items = [("", self.pipeline())]
        while True:
            self.skip_blanks()
            op = self.src[self.i : self.i + 2]
            if op not in ("&&", "||"):
                return AndOr(tuple(items))
            self.i += 2
            self.skip_blanks(newlines=True)
            items.append((op, self.pipeline()))

    def pipeline(self) -> Pipeline:
        commands = [self.command()]
        self.skip_blanks()
        while self.peek() == "|" and self.peek(1) != "|":
            self.i += 1
            self.skip_blanks(newlines=True)
            commands.append(self.command())
            self.skip_blanks()
        return Pipeline(tuple(commands))

    def command(self) -> Simple | Group:
        self.skip_blanks()
        if self.peek() == "(":
            self.i += 1
            return Group(self.script(closing=")"))
        assignments: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            self.skip_blanks()
            c = self.peek()
            if not c or c in ";&|)\n":
                break
            if c == "(":
                raise self.error("unexpected '('")
            redirect = self.redirect()
            if redirect is not None:
                redirects.append(redirect)
                continue
            word = self.word()
            name, eq, _ = word.source.partition("=")
            first = word.parts[0] if word.parts else None
            if (
                not words
                and eq
                and _is_name(name)
                and first is not None
                and first.kind == "lit"
                and not first.quoted
                and first.text.startswith(name + "=")
            ):
                value_parts = (Part("lit", first.text[len(name) + 1 :], True), *word.parts[1:])
                assignments.append((name, Word(value_parts, word.source[len(name) + 1 :])))
            else:
                words.append(word)
        if not (assignments or words or redirects):
            raise self.error(f"expected a command, found {self.peek() or 'the end'!r}")
        return Simple(tuple(assignments), tuple(words), tuple(redirects))

    def redirect(self) -> Redirect | None:
        j = self.i
        while j < len(self.src) and self.src[j].isdigit():
            j += 1
        if j >= len(self.src) or self.src[j] not in "<>":
            return None
        fd_text = self.src[self.i : j]
        rest = self.src[j : j + 2]
        if rest == "<<":
            raise self.error("here-documents are not supported")
        op = rest if rest in (">>", ">&", "<&", ">|", "<>") else rest[0]
        self.i = j + len(op)
        fd = int(fd_text) if fd_text else (0 if op[0] == "<" else 1)
        self.skip_blanks()
        if not self.peek() or self.peek() in SEPARATORS:
            raise self.error(f"missing target after {op!r}")
        return Redirect(fd, op, self.word())

    def word(self) -> Word:
        start = self.i
        parts: list[Part] = []
        literal: list[str] = []

        def flush() -> None:
            if literal:
                parts.append(Part("lit", "".join(literal), False))
                literal.clear()

        while self.i < len(self.src):
            c = self.src[self.i]
            if c in BLANKS or c in SEPARATORS:
                break
            if c == "'":
                end = self.src.find("'", self.i + 1)
                if end < 0:
                    raise self.error("unterminated single quote")
                flush()
                parts.append(Part("lit", self.src[self.i + 1 : end], True))
                self.i = end + 1
            elif c == '"':
                flush()
                self.double_quoted(parts)
            elif c == "\\":
                nxt = self.peek(1)
                if nxt == "\n":
                    self.i += 2
                elif nxt:
                    flush()
                    parts.append(Part("lit", nxt, True))
                    self.i += 2
                else:
                    literal.append("\\")
                    self.i += 1
            elif c in "$`":
                flush()
                self.expansion(parts, quoted=False)
            else:
                literal.append(c)
                self.i += 1
        flush()
        return Word(tuple(parts), self.src[start : self.i])

    def double_quoted(self, parts: list[Part]) -> None:
        self.i += 1
        parts.append(Part("lit", "", True))
        literal: list[str] = []
        while True:
            c = self.peek()
            if not c:
                raise self.error("unterminated double quote")
            if c == '"':
                self.i += 1
                break
            if c == "\\" and self.peek(1) in ("$", "`", '"', "\\", "\n"):
                if self.peek(1) != "\n":
                    literal.append(self.peek(1))
                self.i += 2
            elif c in "$`":
                if literal:
                    parts.append(Part("lit", "".join(literal), True))
                    literal.clear()
                self.expansion(parts, quoted=True)
            else:
                literal.append(c)
                self.i += 1
        if literal:
            parts.append(Part("lit", "".join(literal), True))

    def expansion(self, parts: list[Part], *, quoted: bool) -> None:
        if self.peek() == "`":
            parts.append(self.backquoted(quoted))
            return
        self.i += 1  # the "$"
        c = self.peek()
        if c == "(":
            if self.peek(1) == "(":
                parts.append(self.arithmetic(quoted))
                return
            inner = _Parser(self.src, self.i + 1)
            script = inner.script(closing=")")
            parts.append(Part("sub", self.src[self.i + 1 : inner.i - 1], quoted, script))
            self.i = inner.i
        elif c == "{":
            end = self.src.find("}", self.i)
            name = self.src[self.i + 1 : end] if end > 0 else ""
            if not (_is_name(name) or (len(name) == 1 and name in SPECIAL_VARS)):
                raise self.error(f"unsupported parameter expansion ${{{name}...")
            parts.append(Part("var", name, quoted))
            self.i = end + 1
        elif c and (c.isalpha() or c == "_"):
            j = self.i
            while j < len(self.src) and (self.src[j].isalnum() or self.src[j] == "_"):
                j += 1
            parts.append(Part("var", self.src[self.i : j], quoted))
            self.i = j
        elif c and c in SPECIAL_VARS:
            parts.append(Part("var", c, quoted))
            self.i += 1
        else:
            parts.append(Part("lit", "$", quoted))

    def arithmetic(self, quoted: bool) -> Part:
        """`$((EXPR))` with the cursor on the first "(": the expression's text, unevaluated."""
        depth = 0
        j = self.i + 2
        while j < len(self.src):
            c = self.src[j]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if self.src[j + 1 : j + 2] != ")":
                        raise self.error("arithmetic expansion must end with '))'")
                    text = self.src[self.i + 2 : j]
                    self.i = j + 2
                    return Part("arith", text, quoted)
                depth -= 1
            j += 1
        raise self.error("unterminated arithmetic expansion")

    def backquoted(self, quoted: bool) -> Part:
        j = self.i + 1
        inner: list[str] = []
        while True:
            if j >= len(self.src):
                raise self.error("unterminated backquote")
            c = self.src[j]
            if c == "`":
                break
            if c == "\\" and j + 1 < len(self.src) and self.src[j + 1] in "`\\$":
                inner.append(self.src[j + 1])
                j += 2
                continue
            inner.append(c)
            j += 1
        text = "".join(inner)
        self.i = j + 1
        return Part("sub", text, quoted, parse(text))
