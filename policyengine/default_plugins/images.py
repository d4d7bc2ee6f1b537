"""The built-in selector `images`: image builds chosen by name, version, age, status and tags."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..durations import DurationArg, before
from ..hookspecs import hookimpl

USABLE = frozenset({"AVAILABLE", "DEPRECATED", "DISABLED"})


class ImagesArgs(BaseModel):
    """The arguments of ``select images(...)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    version: str | None = None
    older_than: DurationArg | None = None
    status: list[str] | None = None
    tag: list[str] | None = None
    keep_latest: int | None = Field(default=None, ge=0)

    @field_validator("status", "tag", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: list[str] | None) -> list[str] | None:
        from ..servicemodel import enum

        allowed = enum("ImageStatus")
        for item in value or ():
            if item.upper() not in allowed:
                raise ValueError(f'"{item}" is not an image status ({", ".join(allowed)})')
        return value

    @field_validator("tag")
    @classmethod
    def _key_value(cls, value: list[str] | None) -> list[str] | None:
        for item in value or ():
            if "=" not in item:
                raise ValueError(f'"{item}" is not of the form "key=value"')
        return value


def select_images(args: ImagesArgs, context: Any) -> Iterator[str]:
    """The ARNs of the images that match every argument given.

    ``name`` and ``version`` are exact or ``*`` globs (``version`` matches ``1.0.0/3`` or
    ``1.0.0``); ``status`` is one status or a list; ``tag`` a list of ``key=value`` that the
    image's own tags must all match. ``keep_latest`` leaves out the newest N usable builds
    (AVAILABLE, DEPRECATED or DISABLED) of each name among those that match the other
    arguments, by creation time; ``older_than`` then
    keeps the builds created longer ago than the duration (months and years are calendar
    ones) before ``context.now``.
    """
    tags = [item.split("=", 1) for item in args.tag or ()]
    statuses = {s.upper() for s in args.status or ()}
    candidates = [
        image
        for image in context.images
        if (args.name is None or fnmatchcase(image.name, args.name))
        and (args.version is None or _version_matches(image.version, args.version))
        and (not statuses or image.status in statuses)
        and all(image.tags.get(k) == v for k, v in tags)
    ]
    if args.keep_latest:
        newest: dict[str, list[Any]] = {}
        usable = (i for i in candidates if i.status in USABLE)  # a failed build is nobody's latest
        for image in sorted(usable, key=lambda i: (i.created, i.arn), reverse=True):
            newest.setdefault(image.name, []).append(image)
        kept = {image.arn for group in newest.values() for image in group[: args.keep_latest]}
        candidates = [image for image in candidates if image.arn not in kept]
    if args.older_than is not None:
        cutoff = before(context.now, args.older_than.value, args.older_than.unit)
        candidates = [image for image in candidates if image.created < cutoff]
    for image in candidates:
        yield image.arn


def _version_matches(version: str, pattern: str) -> bool:
    return fnmatchcase(version, pattern) or fnmatchcase(version.split("/")[0], pattern)


@hookimpl
def register_selectors(register: Callable[..., None]) -> None:
    """Register `images`."""
    register("images", select_images, ImagesArgs)
