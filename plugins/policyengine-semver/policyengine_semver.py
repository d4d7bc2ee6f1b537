"""A policyengine selector: every build of an image except the newest N by semantic version.

    rule "disable-superseded" {
      select semver_older_than_latest(name: "golden-al2023", keep: 2)
      status disabled
    }

Versions compare as numbers (``1.10.0`` is newer than ``1.9.0``), then by build number; the
``keep`` newest versions are left out, with every build of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policyengine import hookimpl

__version__ = "0.1.0"


class SemverArgs(BaseModel):
    """`name`: the image name (exact); `keep`: how many of the newest versions to leave out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    keep: int = Field(default=1, ge=1)


def version_key(version: str) -> tuple[int, ...]:
    """``"1.10.0/3"`` as ``(1, 10, 0, 3)``."""
    semantic, _, build = version.partition("/")
    return (*(int(part) for part in semantic.split(".")), int(build or 0))


def semver_older_than_latest(args: SemverArgs, context: Any) -> Iterator[str]:
    """The ARNs of every build of ``args.name`` whose version is not among the newest ``keep``."""
    builds = [image for image in context.images if image.name == args.name]
    versions = sorted({version_key(image.version)[:3] for image in builds}, reverse=True)
    newest = set(versions[: args.keep])
    for image in builds:
        if version_key(image.version)[:3] not in newest:
            yield image.arn


@hookimpl
def register_selectors(register: Callable[..., None]) -> None:
    """Add `semver_older_than_latest`."""
    register("semver_older_than_latest", semver_older_than_latest, SemverArgs)
