"""The canonical layout of a rule file: a pure function of the syntax tree and its comments.

Layout: two spaces a level, one statement a line, no `;`, one blank line around `rule`
and `defaults` blocks, single blank lines kept where the author put them. A list, a call's
arguments or a chain of exclusion criteria stays on one line when it fits in
``WIDTH`` columns and holds no comment; otherwise it takes one element a line. Literals are
printed as written. Comments stay in order: a comment after code on its line stays after
that code, a comment on its own line stays on its own line before the code that followed it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .syntax import (
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
    Statement,
    StatusStatement,
    Str,
    Timestamp,
    Value,
    ValueStatement,
    Word,
)

WIDTH = 100
INDENT = "  "

Pos = tuple[int, int]


@dataclass
class _Line:
    indent: int
    text: str
    src: Pos  # where the first thing on the line stands in the source
    opens: bool = False  # ends with `{` or `[` / `(`
    closes: bool = False  # starts with `}` or `]` / `)`
    item: str | None = None  # the first line of a top-level item: its kind
    comment: bool = False
    trailing: list[str] = field(default_factory=list)  # the comment after the code: at most one


def format_file(parsed: ParsedFile, text: str) -> str:
    """The canonical text of a parsed file (which must have no syntax errors)."""
    return _Formatter(parsed, text).run()


class _Formatter:
    def __init__(self, parsed: ParsedFile, text: str) -> None:
        self.parsed = parsed
        self.source_lines = text.split("\n")
        self.comment_pos = [(c.span.line, c.span.column) for c in parsed.comments]
        self.lines: list[_Line] = []

    # ---- entry point

    def run(self) -> str:
        for item in self.parsed.items:
            self._item(item)
        self._attach_comments()
        return self._emit()

    # ---- items

    def _item(self, item: Item) -> None:
        start = len(self.lines)
        if isinstance(item, Import):
            self._add(0, f"import {item.path.raw}", item.span)
        elif isinstance(item, Let):
            self._value(0, f"let {item.name.text} = ", item.value, _pos(item.span))
        elif isinstance(item, Defaults):
            self._block(0, "defaults {", item.statements, item.span)
        else:
            self._block(0, f"rule {item.name.raw} {{", item.statements, item.span)
        self.lines[start].item = type(item).__name__

    def _block(self, indent: int, header: str, statements: list[Statement], span: object) -> None:
        assert hasattr(span, "line")
        self.lines.append(_Line(indent, header, _pos(span), opens=True))  # type: ignore[arg-type]
        for statement in statements:
            self._statement(indent + 1, statement)
        end = (span.end_line, span.end_column - 1)  # type: ignore[attr-defined]
        self.lines.append(_Line(indent, "}", end, closes=True))

    def _add(self, indent: int, text: str, span: object) -> None:
        self.lines.append(_Line(indent, text, _pos(span)))  # type: ignore[arg-type]

    # ---- statements

    def _statement(self, indent: int, st: Statement) -> None:
        src = _pos(st.span)
        kw = st.keyword.text
        if isinstance(st, ValueStatement):
            self._value(indent, f"{kw} ", st.value, src)
        elif isinstance(st, StatusStatement):
            self.lines.append(_Line(indent, f"{kw} {st.status.text}", src))
        elif isinstance(st, IncludeStatement):
            self.lines.append(_Line(indent, f"{kw} " + ", ".join(w.text for w in st.resources), src))
        elif isinstance(st, ExcludeStatement):
            self._exclude(indent, st)
        else:
            self._call(indent, st)

    def _exclude(self, indent: int, st: ExcludeStatement) -> None:
        head = f"{st.keyword.text} {st.resource.text} when "
        inline = head + " ".join(
            [_criterion(st.criteria[0])]
            + [f"{j.text} {_criterion(c)}" for j, c in zip(st.joiners, st.criteria[1:], strict=False)]
        )
        # A comment after the last `or` trails the last line either way, so only comments
        # before it force one criterion a line (this keeps formatting idempotent).
        last = st.joiners[-1].span if st.joiners else st.span
        if self._fits(indent, inline) and not self._comment_between(_pos(st.span), _pos(last)):
            self.lines.append(_Line(indent, inline, _pos(st.span)))
            return
        self._criterion_lines(indent, head, st.criteria[0], _pos(st.span))
        for joiner, criterion in zip(st.joiners, st.criteria[1:], strict=False):
            self._criterion_lines(indent + 1, f"{joiner.text} ", criterion, _pos(joiner.span))

    def _criterion_lines(self, indent: int, prefix: str, c: Criterion, src: Pos) -> None:
        if c.kind == "not" and c.inner is not None:
            self._criterion_lines(indent, prefix + "not ", c.inner, src)
        elif c.value is None:
            self.lines.append(_Line(indent, prefix + _criterion(c), src))
        else:
            self._value(indent, prefix + _criterion_head(c), c.value, src)

    def _call(self, indent: int, st: CallStatement) -> None:
        head = f"{st.keyword.text} {st.name.text}"
        if st.arguments is None:
            self.lines.append(_Line(indent, head, _pos(st.span)))
            return
        inline = head + "(" + ", ".join(f"{a.name.text}: {_inline(a.value)}" for a in st.arguments) + ")"
        if not st.arguments or (self._fits(indent, inline) and not self._comment_inside(st.span)):
            self.lines.append(_Line(indent, inline, _pos(st.span)))
            return
        self.lines.append(_Line(indent, head + "(", _pos(st.span), opens=True))
        for arg in st.arguments:
            self._value(indent + 1, f"{arg.name.text}: ", arg.value, _pos(arg.span), suffix=",")
        self.lines.append(_Line(indent, ")", (st.span.end_line, st.span.end_column - 1), closes=True))

    # ---- values

    def _value(self, indent: int, prefix: str, value: Value, src: Pos, suffix: str = "") -> None:
        inline = prefix + _inline(value) + suffix
        breakable = isinstance(value, ListValue) and value.items
        if not breakable or (self._fits(indent, inline) and not self._comment_inside(value.span)):
            self.lines.append(_Line(indent, inline, src))
            return
        assert isinstance(value, ListValue)
        self.lines.append(_Line(indent, prefix + "[", src, opens=True))
        for item in value.items:
            self._value(indent + 1, "", item, _pos(item.span), suffix=",")
        end = (value.span.end_line, value.span.end_column - 1)
        self.lines.append(_Line(indent, "]" + suffix, end, closes=True))

    def _fits(self, indent: int, text: str) -> bool:
        return len(INDENT) * indent + len(text) <= WIDTH

    def _comment_inside(self, span: object) -> bool:
        return self._comment_between(_pos(span), (span.end_line, span.end_column))  # type: ignore[attr-defined]

    def _comment_between(self, start: Pos, end: Pos) -> bool:
        i = bisect.bisect_left(self.comment_pos, start)
        return i < len(self.comment_pos) and self.comment_pos[i] < end

    # ---- comments

    def _attach_comments(self) -> None:
        starts = [line.src for line in self.lines]
        inserts: dict[int, list[_Line]] = {}
        tail: list[_Line] = []
        last = 0  # where the last comment on a line of its own went: comments never overtake one another
        for comment in self.parsed.comments:
            pos = (comment.span.line, comment.span.column)
            before = self.source_lines[pos[0] - 1][: pos[1] - 1]
            i = bisect.bisect_right(starts, pos)  # lines that start before the comment: [0, i)
            # A comment runs to the end of its line, so a line takes one after its code; a second
            # one (from another source line joined into this one) goes on a line of its own below,
            # and so does one that would come before an earlier comment set below that line.
            if before.strip() and i > 0 and not self.lines[i - 1].trailing and last < i:
                self.lines[i - 1].trailing.append(comment.text)
                continue
            last = i = max(i, last)
            if i < len(self.lines):
                inserts.setdefault(i, []).append(self._comment_line(comment, self.lines[i]))
            else:
                tail.append(_Line(0, comment.text, pos, comment=True))
        out: list[_Line] = []
        for index, line in enumerate(self.lines):
            out.extend(inserts.get(index, ()))
            out.append(line)
        self.lines = out + tail

    @staticmethod
    def _comment_line(comment: Comment, target: _Line) -> _Line:
        indent = target.indent + 1 if target.closes else target.indent
        return _Line(indent, comment.text, (comment.span.line, comment.span.column), comment=True)

    # ---- output

    def _emit(self) -> str:
        groups = self._groups()
        out: list[str] = []
        previous: _Line | None = None
        current: str | None = None
        for index, line in enumerate(self.lines):
            kind = groups.get(index)
            if previous is not None and not previous.opens and not line.closes:
                blocks = ("RuleDecl", "Defaults")
                boundary = kind is not None and (kind in blocks or current in blocks)
                if boundary or self._blank_above(line):
                    out.append("")
            if kind is not None:
                current = kind
            text = INDENT * line.indent + line.text
            if line.trailing:
                text += "  " + line.trailing[0]
            out.append(text)
            previous = line
        return "\n".join(out) + "\n" if out else ""

    def _groups(self) -> dict[int, str]:
        """Where each top-level item begins (with the comments that lead it), and its kind."""
        groups: dict[int, str] = {}
        last = -1
        for index, line in enumerate(self.lines):
            if line.item is None:
                continue
            start = index
            while start > 0 and self.lines[start - 1].comment and self.lines[start - 1].indent == 0:
                start -= 1
            groups[start] = line.item
            last = index
        tail = len(self.lines)
        while tail > last + 1 and self.lines[tail - 1].comment and self.lines[tail - 1].indent == 0:
            tail -= 1
        if tail < len(self.lines):
            groups[tail] = "Comment"
        return groups

    def _blank_above(self, line: _Line) -> bool:
        number, column = line.src
        if number < 2 or self.source_lines[number - 1][: column - 1].strip():
            return False
        return not self.source_lines[number - 2].strip()


def _pos(span: object) -> Pos:
    return (span.line, span.column)  # type: ignore[attr-defined]


def _inline(value: Value) -> str:
    if isinstance(value, (Str, Int, Timestamp)):
        return value.raw
    if isinstance(value, Duration):
        return f"{value.raw} {value.unit.text}"
    if isinstance(value, Bool):
        return "true" if value.value else "false"
    if isinstance(value, Ref):
        return value.name
    return "[" + ", ".join(_inline(v) for v in value.items) + "]"


def _criterion_head(c: Criterion) -> str:
    if c.kind == "shared":
        return "shared with "
    if c.kind == "launched":
        return "launched within "
    if c.kind == "region":
        return "region in "
    key = c.key.raw if isinstance(c.key, Str) else c.key.text if isinstance(c.key, Word) else ""
    return f"tag {key} = "


def _criterion(c: Criterion) -> str:
    if c.kind == "public":
        return "public"
    if c.kind == "not" and c.inner is not None:
        return "not " + _criterion(c.inner)
    assert c.value is not None
    return _criterion_head(c) + _inline(c.value)
