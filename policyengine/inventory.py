"""The inventory file: the image builds, AMIs and containers a dry-run simulates against.

A pydantic model of CLI.md's format. Problems have codes E5xx and name the file, the JSON
path (``$.images[0].amis[1].region``) and the reason; nothing is ever a traceback.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .errors import Diagnostic, PolicyEngineError, Span, error
from .servicemodel import arn_pattern, enum


def _image_status(value: str) -> str:
    allowed = enum("ImageStatus")
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)} (Image Builder's image statuses)")
    return value


def _image_arn(value: str) -> str:
    if not arn_pattern().search(value):
        raise ValueError("is not an image build version ARN (arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/N)")
    return value


def _account(value: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError("must be a 12-digit account id, written as a string")
    return value


AccountId = Annotated[str, AfterValidator(_account)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ami(_Frozen):
    """One distributed AMI of an image build, as EC2 knows it."""

    id: str = Field(pattern=r"^ami-[0-9a-f]+$")
    region: str = Field(min_length=1)
    account: AccountId
    public: bool = False
    shared_accounts: list[AccountId] = []
    last_launched: AwareDatetime | None = None
    tags: dict[str, str] = {}
    snapshots: list[str] = []
    missing: bool = False  # listed by Image Builder but gone from EC2 (set by live reads)


class Container(_Frozen):
    """One distributed container image."""

    uri: str = Field(min_length=1)
    region: str = Field(min_length=1)


class Image(_Frozen):
    """One image build version: what selectors see as ``context.images``."""

    arn: Annotated[str, AfterValidator(_image_arn)]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    type: Literal["AMI", "DOCKER"]
    created: AwareDatetime
    status: Annotated[str, AfterValidator(_image_status)]
    tags: dict[str, str] = {}
    amis: list[Ami] = []
    containers: list[Container] = []


class Inventory(_Frozen):
    """An inventory file: one entry per image build version."""

    images: list[Image] = []

    def by_arn(self) -> dict[str, Image]:
        """The images by ARN."""
        return {image.arn: image for image in self.images}


class InventoryError(PolicyEngineError):
    """The inventory file cannot be used; ``diagnostics`` says why, each with its JSON path."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics[:3]))


def json_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a JSON path: ``$.images[0].amis[1].region``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def load_inventory(path: str) -> Inventory:
    """Read and validate an inventory file; raise ``InventoryError`` with every problem.

    Problems with the file itself (missing, unreadable, too large, not UTF-8) have the same
    codes as for rule files (E0xx); problems inside it E5xx.
    """
    from .sources import read

    source = read(path, path)
    if isinstance(source, Diagnostic):
        raise InventoryError([source])
    return parse_inventory(source.text, path)


def parse_inventory(text: str | bytes, path: str) -> Inventory:
    """Validate an inventory's JSON text; raise ``InventoryError`` with every problem."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(path, exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        raise InventoryError(
            [error(span, "E501", f"the inventory is not valid JSON: {exc.msg}", "fix the JSON syntax")]
        ) from exc
    except (ValueError, RecursionError) as exc:  # too deeply nested, numbers too long, not UTF-8
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InventoryError([error(Span.whole_file(path), "E501", f"the inventory cannot be read as JSON: {reason}",
                                    "write the format of docs/cli.md")]) from exc  # fmt: skip
    try:
        inventory = Inventory.model_validate(document)
    except ValidationError as exc:
        raise InventoryError([_field_problem(path, e) for e in exc.errors()]) from exc
    seen: dict[str, int] = {}
    problems = []
    for index, image in enumerate(inventory.images):
        if image.arn in seen:
            problems.append(
                error(Span.whole_file(path), "E503",
                      f"$.images[{index}].arn: `{image.arn}` is listed twice (first at $.images[{seen[image.arn]}])",
                      "list each image build version once")
            )  # fmt: skip
        seen.setdefault(image.arn, index)
    if problems:
        raise InventoryError(problems)
    return inventory


def _field_problem(path: str, e: Any) -> Diagnostic:
    loc = json_path(tuple(e["loc"]))
    kind = e["type"]
    if kind == "extra_forbidden":
        reason, hint = "is not a field of the inventory format", "remove it, or check its spelling (docs/cli.md)"
    elif kind == "missing":
        reason, hint = "is required", "add it (docs/cli.md lists the required fields)"
    elif kind == "model_type" or kind == "model_attributes_type":
        reason, hint = "must be a JSON object", "write the format of docs/cli.md"
    else:
        msg = e["msg"].removeprefix("Value error, ")
        reason, hint = msg[:1].lower() + msg[1:], None
    return error(Span.whole_file(path), "E502", f"{loc} {reason}", hint)
