"""Diagnostics with source spans, and the one exception base class of the project."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based lines and columns, the end column exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of ``other``."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)

    @classmethod
    def whole_file(cls, file: str) -> Span:
        """A span for problems with a file as a whole (it is missing, unreadable, ...)."""
        return cls(file, 1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Note:
    """A secondary location that explains a diagnostic (for example the first definition)."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the rules: where, how bad, a stable code, what and how to fix."""

    span: Span
    severity: Severity
    code: str
    message: str
    hint: str | None = None
    notes: tuple[Note, ...] = field(default=())
    source: str | None = None  # who reported it, when not the engine itself (a plugin's name)

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order diagnostics by file, position and code."""
        return (self.span.file, self.span.line, self.span.column, self.code)

    def to_json(self) -> dict[str, object]:
        """The stable JSON shape of ``check --format json``."""
        data: dict[str, object] = {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }
        if self.notes:
            data["notes"] = [
                {"file": n.span.file, "line": n.span.line, "column": n.span.column, "message": n.message}
                for n in self.notes
            ]
        if self.source:
            data["source"] = self.source
        return data


def error(span: Span, code: str, message: str, hint: str | None = None, *notes: Note) -> Diagnostic:
    """Build an error diagnostic."""
    return Diagnostic(span, Severity.ERROR, code, message, hint, tuple(notes))


def warning(span: Span, code: str, message: str, hint: str | None = None, *notes: Note) -> Diagnostic:
    """Build a warning diagnostic."""
    return Diagnostic(span, Severity.WARNING, code, message, hint, tuple(notes))


def unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics without repeats, in their order (one problem reached by two paths is one)."""
    return list(dict.fromkeys(diagnostics))


class PolicyEngineError(Exception):
    """Base class of every error the project raises on purpose; the CLI prints it plainly."""


class Refuse(Exception):
    """Raised by a `before_request` hook to refuse a request; the message says why."""


@dataclass(frozen=True)
class Problem:
    """A problem a plugin's `check_rule` reports: a message, a severity, a hint, a code.

    ``severity`` is "error" or "warning"; ``code`` is the plugin's own (such as "PROD001"),
    or None for E499 / W499.
    """

    message: str
    severity: str = "error"
    hint: str | None = None
    code: str | None = None
