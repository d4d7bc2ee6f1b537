"""Rule text to syntax tree: the only module that imports lark.

The grammar lives in ``grammar.lark`` (LALR). A transformer runs inside the parser, so no
lark tree is ever built, and lark objects never leave this module. Syntax errors become
diagnostics, and the parser recovers so that one run reports every problem: an unexpected
token is skipped (with the tokens right after it, silently) until one fits; an unexpected
statement or item keyword, a closing brace, an unexpected character or the end of the file
make it start again at the next top-level item instead.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .constants import ENV_CACHE_DIR, MAX_NESTING, MAX_SYNTAX_ERRORS_PER_FILE
from .errors import Diagnostic, Span, error, unique
from .keywords import ITEM_KEYWORDS, STATEMENT_KEYWORDS
from .suggest import did_you_mean, one_of
from .syntax import (
    Argument,
    Bool,
    CallStatement,
    Comment,
    Criterion,
    Defaults,
    Duration,
    ExcludeStatement,
    Import,
    IncludeStatement,
    Int,
    Item,
    Let,
    ListValue,
    ParsedFile,
    Ref,
    RuleDecl,
    StatusStatement,
    Str,
    Timestamp,
    ValueStatement,
    Word,
)

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# Skipping one of these would swallow the next statement or item: restart there instead.
_RESTART_TERMINALS = frozenset(k.upper() for k in (*ITEM_KEYWORDS, *STATEMENT_KEYWORDS)) | {"$END", "RBRACE"}

_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2})))?"
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_VALID_ESCAPES = frozenset('"\\/bfnrt')
_MAX_INT_DIGITS = 64



def _cache_dir() -> Path:
    base = os.environ.get(ENV_CACHE_DIR) or os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "policyengine"


@lru_cache(maxsize=1)
def grammar_text() -> str:
    """The grammar source."""
    return GRAMMAR_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Builder]:
    """The LALR parser with the tree builder inside it, built once (tables cached on disk)."""
    builder = _Builder()
    options: dict[str, Any] = dict(
        parser="lalr",
        lexer="basic",
        transformer=builder,
        lexer_callbacks={"COMMENT": builder.comment},
        maybe_placeholders=False,
    )
    text = grammar_text()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    cache_file = _cache_dir() / f"grammar-{digest}.lark-cache"
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        return Lark(text, cache=str(cache_file), **options), builder
    except OSError:  # an unwritable cache directory only costs start-up time
        return Lark(text, **options), builder


def bare_parser(**options: Any) -> Lark:
    """The grammar alone, building a lark tree: the baseline that benchmarks compare with."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", **options)


_lock = threading.Lock()


def parse(text: str, path: str) -> ParsedFile:
    """Parse ``text`` (the contents of ``path``) into a syntax tree, with syntax diagnostics."""
    lark, builder = _parser()
    with _lock:
        frozen = gc.isenabled()
        if frozen:  # the cyclic collector dominates large parses; nothing here forms cycles
            gc.disable()
        try:
            return _Recovery(lark, builder, text, path).run()
        finally:
            if frozen:
                gc.enable()


# --------------------------------------------------------------------------- the tree builder


def _span(tok: Token, file: str) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]


class _Builder(Transformer[Token, Any]):
    """Runs inside the LALR parser: builds syntax nodes as rules reduce.

    The parser is shared, so the builder carries the state of the parse under way:
    the file name, the completed items (kept even when a later error aborts the parse),
    the comments, and the diagnostics found in literals.
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.reset("<none>")

    def reset(self, file: str) -> None:
        """Start a new parse of ``file``."""
        self.file = file
        self.items: list[Item] = []
        self.comments: list[Comment] = []
        self.diagnostics: list[Diagnostic] = []

    def comment(self, tok: Token) -> Token:
        """Lexer callback: keep every comment with its position."""
        self.comments.append(Comment(tok.value.rstrip(), _span(tok, self.file)))
        return tok

    # ---- helpers

    def sp(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]

    def kw(self, tok: Token) -> Word:
        return Word(tok.value, self.sp(tok))

    def _string(self, tok: Token) -> Str:
        raw: str = tok.value
        span = self.sp(tok)
        if "\\" not in raw:
            return Str(raw[1:-1], raw, span)
        for m in _ESCAPE.finditer(raw, 1, len(raw) - 1):
            esc = m.group(1)
            if len(esc) == 1 and esc not in _VALID_ESCAPES:
                col = tok.column + m.start()  # type: ignore[operator]
                self.diagnostics.append(
                    error(
                        Span(self.file, span.line, col, span.line, col + 2),
                        "E103",
                        f"invalid escape sequence `\\{esc}` in a string",
                        "strings take JSON's escapes only: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX;"
                        " write a backslash as \\\\",
                    )
                )
                return Str(raw[1:-1], raw, span)
        value = json.loads(raw, strict=False)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.diagnostics.append(
                error(
                    span,
                    "E103",
                    "a `\\u` escape in this string is half of a surrogate pair",
                    "write the character itself, or both halves of the pair (\\uD83D\\uDE00)",
                )
            )
            value = value.encode("utf-8", "replace").decode("utf-8")
        return Str(value, raw, span)

    # ---- items

    def start(self, children: list[Any]) -> list[Item]:
        return self.items

    def import_item(self, c: list[Any]) -> None:
        path = self._string(c[1])
        if "\x00" in path.value:  # no file system takes it: reported here, so that nothing tries to open it
            self.diagnostics.append(
                error(
                    path.span,
                    "E205",
                    f"cannot import {path.raw}: a path cannot contain a NUL character (`\\u0000`)",
                    "write the path of a file, relative to this file's directory",
                )
            )
            return
        self.items.append(Import(path, self.sp(c[0]).to(path.span)))

    def let_item(self, c: list[Any]) -> None:
        value = c[2]
        self.items.append(Let(self.kw(c[1]), value, self.sp(c[0]).to(value.span)))

    def defaults_item(self, c: list[Any]) -> None:
        self.items.append(Defaults(c[1:-1], self.sp(c[0]).to(self.sp(c[-1]))))

    def rule_item(self, c: list[Any]) -> None:
        self.items.append(RuleDecl(self._string(c[1]), c[2:-1], self.sp(c[0]).to(self.sp(c[-1]))))

    # ---- statements

    def _value_statement(self, c: list[Any]) -> ValueStatement:
        keyword = self.kw(c[0])
        return ValueStatement(keyword, c[1], keyword.span.to(c[1].span))

    description_stmt = owner_stmt = target_stmt = role_stmt = at_stmt = token_stmt = _value_statement

    def status_stmt(self, c: list[Any]) -> StatusStatement:
        keyword = self.kw(c[0])
        return StatusStatement(keyword, c[1], keyword.span.to(c[1].span))

    def include_stmt(self, c: list[Any]) -> IncludeStatement:
        keyword = self.kw(c[0])
        return IncludeStatement(keyword, c[1:], keyword.span.to(c[-1].span))

    def exclude_stmt(self, c: list[Any]) -> ExcludeStatement:
        keyword = self.kw(c[0])
        rest = c[3:]
        return ExcludeStatement(keyword, c[1], rest[0::2], rest[1::2], keyword.span.to(rest[-1].span))

    def _call(self, c: list[Any]) -> CallStatement:
        keyword = self.kw(c[0])
        name = self.kw(c[1])
        if len(c) > 2:
            args, end = c[2]
            return CallStatement(keyword, name, args, keyword.span.to(end))
        return CallStatement(keyword, name, None, keyword.span.to(name.span))

    select_stmt = notify_stmt = _call

    def arguments(self, c: list[Any]) -> tuple[list[Argument], Span]:
        return c[:-1], self.sp(c[-1])

    def argument(self, c: list[Any]) -> Argument:
        return Argument(c[0], c[1], c[0].span.to(c[1].span))

    # ---- criteria

    def not_criterion(self, c: list[Any]) -> Criterion:
        inner: Criterion = c[1]
        depth = inner.depth + 1
        if depth == MAX_NESTING + 1:
            self._too_deep(
                self.sp(c[0]), f"more than {MAX_NESTING} `not` in a row",
                "Image Builder has no `not` (E405): exclude what must stay instead",
            )  # fmt: skip
        elif depth > MAX_NESTING + 1:  # reported below: keep a stub, so that the tree stays shallow
            inner = Criterion("not", inner.span, depth=inner.depth)
        return Criterion("not", self.sp(c[0]).to(inner.span), inner=inner, depth=depth)

    def public_criterion(self, c: list[Any]) -> Criterion:
        return Criterion("public", self.sp(c[0]))

    def shared_criterion(self, c: list[Any]) -> Criterion:
        return Criterion("shared", self.sp(c[0]).to(c[2].span), value=c[2])

    def launched_criterion(self, c: list[Any]) -> Criterion:
        return Criterion("launched", self.sp(c[0]).to(c[2].span), value=c[2])

    def region_criterion(self, c: list[Any]) -> Criterion:
        return Criterion("region", self.sp(c[0]).to(c[2].span), value=c[2])

    def tag_criterion(self, c: list[Any]) -> Criterion:
        key = c[1] if isinstance(c[1], Word) else self._string(c[1])
        return Criterion("tag", self.sp(c[0]).to(c[2].span), value=c[2], key=key)

    # ---- words

    def _word(self, c: list[Any]) -> Word:
        return self.kw(c[0])

    status_word = resource_word = unit_word = any_word = joiner = _word

    # ---- values

    def string(self, c: list[Any]) -> Str:
        return self._string(c[0])

    def integer(self, c: list[Any]) -> Int:
        raw = c[0].value
        return Int(_int(raw), raw, self.sp(c[0]))

    def duration(self, c: list[Any]) -> Duration:
        raw = c[0].value
        return Duration(_int(raw), raw, c[1], self.sp(c[0]).to(c[1].span))

    def timestamp(self, c: list[Any]) -> Timestamp:
        raw = c[0].value
        span = self.sp(c[0])
        value, problem = parse_timestamp(raw)
        if problem:
            self.diagnostics.append(
                error(
                    span,
                    "E305",
                    f"invalid timestamp `{raw}`: {problem}",
                    "write RFC 3339, such as 2027-01-01T00:00:00Z or 2027-01-01T09:30:00+02:00,"
                    " or a date such as 2027-01-01 (midnight UTC)",
                )
            )
        return Timestamp(value, raw, span)

    def true(self, c: list[Any]) -> Bool:
        return Bool(True, self.sp(c[0]))

    def false(self, c: list[Any]) -> Bool:
        return Bool(False, self.sp(c[0]))

    def reference(self, c: list[Any]) -> Ref:
        return Ref(c[0].value, self.sp(c[0]))

    def list(self, c: list[Any]) -> ListValue:
        items = c[1:-1]
        depth = 1 + max((v.depth for v in items if isinstance(v, ListValue)), default=0)
        if depth == MAX_NESTING + 1:
            self._too_deep(
                self.sp(c[0]), f"this list holds lists nested {MAX_NESTING} deep",
                "a list holds plain values (E308); write one flat list",
            )  # fmt: skip
        elif depth > MAX_NESTING + 1:  # reported below: keep stubs, so that the tree stays shallow
            items = [ListValue([], v.span, v.depth) if isinstance(v, ListValue) and v.depth > MAX_NESTING else v
                     for v in items]  # fmt: skip
        return ListValue(items, self.sp(c[0]).to(self.sp(c[-1])), depth)

    def _too_deep(self, span: Span, message: str, hint: str) -> None:
        """E109, once per chain: what lies deeper is cut, so no walk over the tree can recurse deeply."""
        where = Span(span.file, span.line, span.column, span.line, span.column + 1)
        self.diagnostics.append(error(where, "E109", message, hint))


def _int(raw: str) -> int:
    # Python refuses to convert very long digit strings; anything this long is out of range anyway.
    return int(raw) if len(raw) <= _MAX_INT_DIGITS else 10**_MAX_INT_DIGITS


def parse_timestamp(raw: str) -> tuple[datetime | None, str | None]:
    """Parse an RFC 3339 timestamp or a bare date: the value, or None and what is wrong."""
    m = _TIMESTAMP.fullmatch(raw)
    if not m:
        if "T" in raw or "t" in raw:
            return None, "a time needs hours, minutes, seconds and a zone (Z or +HH:MM)"
        return None, "not a date of the form YYYY-MM-DD"
    year, month, day, hour, minute, second, frac, z, sign, oh, om = m.groups()
    try:
        if hour is None:
            return datetime(int(year), int(month), int(day), tzinfo=UTC), None
        offset = timedelta(0)
        if not z:
            if int(oh) > 23 or int(om) > 59:
                return None, "the zone offset is out of range"
            offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            tzinfo=timezone(offset),
        )  # fmt: skip
        value.astimezone(UTC)  # the instant must exist in UTC too
        return value, None
    except ValueError as exc:
        return None, str(exc)
    except OverflowError:
        return None, "the time is out of range once converted to UTC"


# --------------------------------------------------------------------------- syntax errors

_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "TIMESTAMP": "a timestamp",
    "RBRACE": "`}`",
    "LBRACE": "`{`",
    "RPAR": "`)`",
    "LPAR": "`(`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "SEMICOLON": "`;`",
    "$END": "the end of the file",
}


def _describe(terminal: str) -> str:
    return _TERMINAL_NAMES.get(terminal) or f"`{terminal.lower()}`"


_VALUE_STARTS = frozenset({"STRING", "INT", "TIMESTAMP", "TRUE", "FALSE", "NAME", "LSQB"})
_STATEMENT_STARTS = frozenset(k.upper() for k in STATEMENT_KEYWORDS)


def _expected(accepts: set[str]) -> str:
    groups = []
    if accepts >= _VALUE_STARTS:
        accepts = accepts - _VALUE_STARTS
        groups.append("a value")
    if accepts >= _STATEMENT_STARTS:
        accepts = accepts - _STATEMENT_STARTS
        groups.append("a statement")
    names = groups + sorted({_describe(t) for t in accepts})
    if len(names) > 8:
        return ", ".join(names[:8]) + ", ..."
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class _Recovery:
    """One file's parse with error recovery (see the module docstring)."""

    def __init__(self, lark: Lark, builder: _Builder, text: str, path: str) -> None:
        self.lark, self.builder, self.text, self.path = lark, builder, text, path
        self.items: list[Item] = []
        self.comments: list[Comment] = []
        self.diagnostics: list[Diagnostic] = []
        self.syntax_errors = 0
        self._last_skip_end: int | None = None
        self._chunk = text
        self._line_starts: list[int] | None = None
        self._starts = _item_starts(text)
        self._next_start = -1

    def run(self) -> ParsedFile:
        start = 0
        while True:
            self.builder.reset(self.path)
            self._chunk = self._padded(start)
            self._last_skip_end = None
            try:
                self.lark.parse(self._chunk, on_error=self._on_error)
                failed_at: int | None = None
            except UnexpectedInput as exc:
                failed_at = self._report(exc)
                self._complete_pending(exc)
            self.items.extend(self.builder.items)
            self.comments.extend(self.builder.comments)
            self.diagnostics.extend(self.builder.diagnostics)
            if failed_at is None or self.syntax_errors >= MAX_SYNTAX_ERRORS_PER_FILE:
                break
            resume = self._resume_point(failed_at, start)
            if resume is None:
                break
            start = resume
        if self.syntax_errors >= MAX_SYNTAX_ERRORS_PER_FILE:
            last = self.diagnostics[-1].span
            self.diagnostics.append(
                error(
                    Span(self.path, last.end_line, last.end_column, last.end_line, last.end_column),
                    "E108",
                    f"stopped after {MAX_SYNTAX_ERRORS_PER_FILE} syntax errors in this file",
                    "fix the first errors and run again",
                )
            )
        self._mark_broken()
        return ParsedFile(self.path, self.items, self.comments, unique(self.diagnostics))

    # ---- restarting at the next top-level item

    def _padded(self, start: int) -> str:
        """The text from ``start``, padded so that lines and columns stay those of the file."""
        if start == 0:
            return self.text
        line_start = self.text.rfind("\n", 0, start) + 1
        return "\n" * self.text.count("\n", 0, start) + " " * (start - line_start) + self.text[start:]

    def _offset(self, line: int, column: int) -> int:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        if line - 1 >= len(self._line_starts):
            return len(self.text)
        return self._line_starts[line - 1] + column - 1

    def _resume_point(self, failed_at: int, start: int) -> int | None:
        # Restarts move forward, so one scan of the file serves them all.
        while self._next_start <= start or self._next_start < failed_at:
            pos = next(self._starts, None)
            if pos is None:
                return None
            self._next_start = pos
        return self._next_start

    @staticmethod
    def _complete_pending(exc: UnexpectedInput) -> None:
        """Let the parser finish an item that only waited for its lookahead token.

        LALR reduces `rule ... }` only once it has seen the next token; when that token is
        the error, feeding the end of input completes the item (the builder keeps it).
        When the input so far does not end an item, this fails and nothing is kept.
        """
        parser = getattr(exc, "interactive_parser", None)
        if parser is None:
            return
        with contextlib.suppress(UnexpectedInput):
            parser.feed_eof()

    # ---- reporting

    def _report(self, exc: UnexpectedInput) -> int:
        """Record the error that stopped the parse; return its offset in the file."""
        if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
            line, column = self._end_position()
        else:
            line, column = exc.line, exc.column
        offset = self._offset(line, column)
        if isinstance(exc, UnexpectedCharacters):
            self._add(self._unexpected_character(offset, line, column, exc))
        elif isinstance(exc, UnexpectedToken) and not self._continues_skip(exc.token):
            self._add(self._unexpected_token(exc, line, column))
        return offset

    def _on_error(self, exc: UnexpectedInput) -> bool:
        """Recover inside statement lists by skipping tokens; anything else restarts."""
        if not isinstance(exc, UnexpectedToken) or exc.token.type in _RESTART_TERMINALS:
            return False
        if self.syntax_errors >= MAX_SYNTAX_ERRORS_PER_FILE:
            return False
        tok = exc.token
        if not self._continues_skip(tok):
            self._add(self._unexpected_token(exc, tok.line, tok.column))  # type: ignore[arg-type]
        self._last_skip_end = tok.end_pos
        return True

    def _continues_skip(self, tok: Token) -> bool:
        """True when ``tok`` follows the token skipped last with nothing accepted in between."""
        if self._last_skip_end is None or tok.start_pos is None:
            return False
        between = self._chunk[self._last_skip_end : tok.start_pos]
        return not re.sub(r"#[^\n]*", "", between).strip()

    def _add(self, diagnostic: Diagnostic) -> None:
        self.syntax_errors += 1
        self.diagnostics.append(diagnostic)

    def _end_position(self) -> tuple[int, int]:
        stripped = self.text.rstrip()
        line = stripped.count("\n") + 1
        column = len(stripped) - (stripped.rfind("\n") + 1) + 1
        return line, column

    def _unexpected_character(self, offset: int, line: int, column: int, exc: UnexpectedCharacters) -> Diagnostic:
        char = self.text[offset] if offset < len(self.text) else ""
        span = Span(self.path, line, column, line, column + 1)
        if char == '"':
            end = self.text.find("\n", offset)
            end = len(self.text) if end < 0 else end
            span = Span(self.path, line, column, line, column + max(1, end - offset))
            if self.text.find('"', offset + 1, end) >= 0 or end == len(self.text):
                message = "unterminated string"
            else:
                message = "unterminated string: a string cannot span lines"
            return error(span, "E102", message, 'close it with `"` on the same line; write a line break as \\n')
        hints = {
            "'": "strings are written in double quotes",
            "/": "comments start with `#`",
            "-": "names may contain letters, digits and `_` only",
            "\u00a0": "this is a non-breaking space; use a plain space",
            "\t": None,
        }
        hint = hints.get(char)
        if char == "-" and self.text[offset + 1 : offset + 2].isdigit():
            hint = "numbers are never negative in rule files"
        if hint is None and char == "=" and self.text.startswith("==", offset):
            hint = "a tag criterion is written `tag KEY = VALUE`, with one `=`"
        shown = char if char.isprintable() else repr(char)
        return error(span, "E101", f"unexpected character `{shown}`", hint)

    def _unexpected_token(self, exc: UnexpectedToken, line: int, column: int) -> Diagnostic:
        tok = exc.token
        accepts = set(exc.accepts or exc.expected)
        if tok.type == "$END":
            return error(
                Span(self.path, line, column, line, column + 1), "E107",
                f"unexpected end of file; expected {_expected(accepts)}",
                "a block opened with `{` needs its `}`" if "RBRACE" in accepts else None,
            )  # fmt: skip
        span = Span(self.path, line, column, tok.end_line or line, tok.end_column or column + 1)  # type: ignore[arg-type]
        word = str(tok.value)
        statement_terminals = {k.upper() for k in STATEMENT_KEYWORDS}
        if accepts == {"NAME"} and re.fullmatch(r"[a-z]+", word):
            return error(
                span,
                "E105",
                f"`{word}` is a keyword and cannot be used as a name",
                f"choose another name, such as `{word}_`",
            )
        if tok.type == "NAME" and accepts & statement_terminals:
            choices = [k for k in STATEMENT_KEYWORDS if k.upper() in accepts]
            return error(
                span,
                "E106",
                f"unknown statement `{word}`",
                did_you_mean(word, choices, f"a statement starts with one of {one_of(choices)}"),
            )
        if tok.type == "NAME" and accepts & {"RULE", "LET"}:
            return error(
                span,
                "E106",
                f"unknown item `{word}`",
                did_you_mean(word, ITEM_KEYWORDS, f"a file holds {one_of(ITEM_KEYWORDS)} items"),
            )
        hint = None
        if accepts & {"OR", "AND"} and word == ",":
            hint = "exclusion criteria are joined with `or`"
        elif word == "{" and "RULE" not in accepts:
            hint = "is a `}` missing before this?"
        elif tok.type == "STRING" and "NAME" in accepts and accepts <= {"NAME"}:
            hint = "a name is written without quotes"
        if tok.type == "STRING":
            found = "a string"
        elif tok.type in ("INT", "TIMESTAMP", "NAME"):
            found = f"{_describe(tok.type).removeprefix('a ')} `{word}`"
        else:
            found = f"`{word}`"
        return error(span, "E104", f"unexpected {found}; expected {_expected(accepts)}", hint)

    def _mark_broken(self) -> None:
        """Flag rules that contain a recovered syntax error, so no cascade is reported on them."""
        errors = [(d.span.line, d.span.column) for d in self.diagnostics if d.code.startswith("E1")]
        if not errors:
            return
        for item in self.items:
            if isinstance(item, RuleDecl):
                s = item.span
                if any((s.line, s.column) < e <= (s.end_line, s.end_column) for e in errors):
                    item.broken = True


# The grammar's STRING (tests/test_parser.py keeps them equal). Possessive repeats keep no
# backtracking state per character: a 10 MB string otherwise took 2 GB and 5 s to match.
STRING_PATTERN = r'"[^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+"'
_SCAN = re.compile(STRING_PATTERN + r"|#[^\n]*|(?<!\btag )\b(?:import|let|defaults|rule)\b(?!\s*[:=])")


def _item_starts(text: str) -> Iterator[int]:
    """Offsets of the top-level item keywords, by a scan that skips strings and comments.

    The four item keywords are reserved and start no statement, so outside strings and
    comments they only ever begin an item (or stand as a tag key or argument name, which
    the pattern leaves out), whatever braces a broken file left open.
    """
    return (m.start() for m in _SCAN.finditer(text) if m.group()[0] not in '"#')
