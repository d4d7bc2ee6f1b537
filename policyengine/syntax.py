"""The syntax tree of a rule file: what the parser produces and the formatter prints.

Nodes are plain slotted dataclasses (cheap to build by the thousand); every node carries
its source span. The tree keeps what was written (raw text of literals, statement order)
so that the formatter can print it back faithfully.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import Diagnostic, Span


@dataclass(slots=True)
class Word:
    """A bare word in a position where the resolver decides what it means."""

    text: str
    span: Span


# --------------------------------------------------------------------------- values


@dataclass(slots=True)
class Str:
    """A string literal: ``value`` decoded, ``raw`` as written (quotes included)."""

    value: str
    raw: str
    span: Span


@dataclass(slots=True)
class Int:
    """An integer literal."""

    value: int
    raw: str
    span: Span


@dataclass(slots=True)
class Duration:
    """``INT UNIT``: the unit is checked by the resolver."""

    value: int
    raw: str
    unit: Word
    span: Span


@dataclass(slots=True)
class Timestamp:
    """A timestamp literal; ``value`` is None when the text is not a valid RFC 3339 time."""

    value: datetime | None
    raw: str
    span: Span


@dataclass(slots=True)
class Bool:
    """``true`` or ``false``."""

    value: bool
    span: Span


@dataclass(slots=True)
class Ref:
    """A reference to a ``let`` binding."""

    name: str
    span: Span


@dataclass(slots=True)
class ListValue:
    """``[a, b, ...]``: ``items`` may be empty (the resolver reports that).

    ``depth`` counts the list levels from here down (1: no list inside); the parser cuts
    what lies deeper than ``MAX_NESTING`` (E109), so no walk over a tree can run deep.
    """

    items: list[Value]
    span: Span
    depth: int = 1


Value = Str | Int | Duration | Timestamp | Bool | Ref | ListValue


# --------------------------------------------------------------------------- statements


@dataclass(slots=True)
class ValueStatement:
    """``description``, ``owner``, ``target``, ``role``, ``at`` or ``token`` with its value."""

    keyword: Word
    value: Value
    span: Span


@dataclass(slots=True)
class StatusStatement:
    """``status WORD``."""

    keyword: Word
    status: Word
    span: Span


@dataclass(slots=True)
class IncludeStatement:
    """``include RES, ...``."""

    keyword: Word
    resources: list[Word]
    span: Span


@dataclass(slots=True)
class Criterion:
    """One exclusion criterion; ``kind`` is public, shared, launched, region, tag or not."""

    kind: str
    span: Span
    value: Value | None = None
    key: Str | Word | None = None  # tag key, as written
    inner: Criterion | None = None  # for ``not``
    depth: int = 1  # criteria from here down: more than 1 for ``not``, bounded as for lists


@dataclass(slots=True)
class ExcludeStatement:
    """``exclude RES when CRITERION (or CRITERION)*``; ``joiners`` are the words between."""

    keyword: Word
    resource: Word
    criteria: list[Criterion]
    joiners: list[Word]
    span: Span


@dataclass(slots=True)
class Argument:
    """``name: value`` inside the parentheses of ``select`` or ``notify``."""

    name: Word
    value: Value
    span: Span


@dataclass(slots=True)
class CallStatement:
    """``select NAME(args)`` or ``notify NAME`` / ``notify NAME(args)``."""

    keyword: Word
    name: Word
    arguments: list[Argument] | None  # None: written without parentheses
    span: Span


Statement = ValueStatement | StatusStatement | IncludeStatement | ExcludeStatement | CallStatement


# --------------------------------------------------------------------------- items


@dataclass(slots=True)
class Import:
    """``import "path"``."""

    path: Str
    span: Span


@dataclass(slots=True)
class Let:
    """``let NAME = VALUE``."""

    name: Word
    value: Value
    span: Span


@dataclass(slots=True)
class Defaults:
    """``defaults { ... }``."""

    statements: list[Statement]
    span: Span


@dataclass(slots=True)
class RuleDecl:
    """``rule "name" { ... }``; ``broken`` when a syntax error was recovered inside it."""

    name: Str
    statements: list[Statement]
    span: Span
    broken: bool = False


Item = Import | Let | Defaults | RuleDecl


@dataclass(slots=True)
class Comment:
    """A ``#`` comment: its text (without the line break) and where it stands."""

    text: str
    span: Span


@dataclass(slots=True)
class ParsedFile:
    """A parsed file: its items, its comments, and the syntax diagnostics."""

    path: str
    items: list[Item]
    comments: list[Comment] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file parsed without syntax errors."""
        return not any(d.is_error for d in self.diagnostics)
