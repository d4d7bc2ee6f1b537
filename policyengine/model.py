"""The rule model: what a rule means once imports, `let` names and defaults are resolved.

Every setting keeps the span it came from, so that problems found later (by the compiler
or the service model) are still reported where the user wrote the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from .errors import Span


def _span_text(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.column}-{span.end_line}:{span.end_column}"


# A span, written compactly in the JSON form of the model: "file:line:col-line:col".
SpanField = Annotated[Span, PlainSerializer(_span_text, return_type=str)]


class Status(StrEnum):
    """The state a rule sets."""

    AVAILABLE = "available"
    DEPRECATED = "deprecated"
    DISABLED = "disabled"
    DELETED = "deleted"


RESOURCES = ("amis", "snapshots", "containers")
UNITS = {
    "day": "DAYS", "days": "DAYS", "week": "WEEKS", "weeks": "WEEKS",
    "month": "MONTHS", "months": "MONTHS", "year": "YEARS", "years": "YEARS",
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Model):
    """A string setting and where it was written."""

    value: str
    span: SpanField
    origin: SpanField | None = None  # the literal, when the value came through a `let` name


class Time(_Model):
    """A timestamp setting (aware) and where it was written."""

    value: datetime
    span: SpanField


class LastLaunched(_Model):
    """``launched within VALUE UNIT``; ``unit`` as the request spells it (DAYS, ...)."""

    value: int
    unit: str
    span: SpanField


class Include(_Model):
    """``include``: which resources the state change reaches."""

    amis: bool = False
    snapshots: bool = False
    containers: bool = False
    span: SpanField


class Exclusions(_Model):
    """The merged exclusion criteria of a rule and its defaults."""

    public: list[SpanField] = []
    regions: list[Text] = []
    shared_accounts: list[Text] = []
    last_launched: LastLaunched | None = None
    tags: dict[str, Text] = {}
    spans: list[SpanField] = []  # the `exclude` statements they came from

    @property
    def empty(self) -> bool:
        """True when no criterion was given."""
        return not (self.public or self.regions or self.shared_accounts or self.last_launched or self.tags)


class Call(_Model):
    """A ``select`` or ``notify``: the plugin's name and its arguments as JSON-able values."""

    name: str
    args: dict[str, Any] = {}
    span: SpanField
    name_span: SpanField
    arg_spans: dict[str, SpanField] = {}


class Target(_Model):
    """One image build version ARN written in the rule."""

    arn: str
    span: SpanField
    origin: SpanField | None = None


class Rule(_Model):
    """One lifecycle rule, with its defaults applied."""

    name: str
    file: str
    span: SpanField
    name_span: SpanField
    description: str | None = None
    owner: Text | None = None
    targets: list[Target] = []
    selectors: list[Call] = []
    status: Status | None = None
    status_span: SpanField | None = None
    include: Include | None = None
    exclusions: Exclusions | None = None
    role: Text | None = None
    at: Time | None = None
    token: Text | None = None
    notify: list[Call] = []
    invalid: list[str] = []  # settings whose value had an error (reported): later checks leave them be

    @property
    def line(self) -> int:
        """The line of the rule's `rule` keyword."""
        return self.span.line

    def with_selected(self, found: Iterable[Target]) -> list[Target]:
        """The written targets, then those its selectors found that were not written too."""
        written = {t.arn for t in self.targets}
        return [*self.targets, *(t for t in found if t.arn not in written)]
