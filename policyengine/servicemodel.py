"""The Image Builder service model, read from botocore's own data, and a full validator.

botocore validates only required members, types and minimums on the client side; this
module checks everything the model states (required members, enums, patterns, lengths,
ranges) so that a request the service would reject is caught before anything is sent.
The data files are read directly, without importing botocore, to keep start-up fast.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

SERVICE = "imagebuilder"
OPERATION = "StartResourceStateUpdate"

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a value breaks the service model: where (a path into the request), a code, what."""

    path: Path_
    code: str
    message: str
    shape: str


def botocore_data_dir() -> Path:
    """Botocore's data directory, found without importing botocore."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _load_json(base: Path) -> Any:
    plain = base.with_suffix(".json")
    if plain.exists():
        return json.loads(plain.read_bytes())
    return json.loads(gzip.decompress(base.with_suffix(".json.gz").read_bytes()))


@lru_cache(maxsize=4)
def service_model(service: str = SERVICE) -> dict[str, Any]:
    """The newest service model botocore ships for ``service``."""
    versions = sorted(p for p in (botocore_data_dir() / service).iterdir() if p.is_dir())
    return _load_json(versions[-1] / "service-2")  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def partitions() -> list[dict[str, Any]]:
    """Botocore's partition data: each partition's id, region pattern and known regions."""
    return _load_json(botocore_data_dir() / "partitions")["partitions"]  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region name some partition knows (the `*-global` pseudo-regions left out)."""
    return frozenset(r for p in partitions() for r in p.get("regions", {}) if not r.endswith("-global"))


def region_pattern_match(region: str) -> str | None:
    """The partition whose region pattern ``region`` fits, if any (a region newer than botocore)."""
    for p in partitions():
        pattern = p.get("regionRegex")
        if pattern and re.fullmatch(pattern.strip("^$"), region):
            return str(p["id"])
    return None


def enum(shape: str) -> list[str]:
    """The values a string shape of the model allows (such as ImageStatus)."""
    return list(service_model()["shapes"][shape]["enum"])


def input_shape(operation: str = OPERATION) -> str:
    """The name of an operation's input shape."""
    return str(service_model()["operations"][operation]["input"]["shape"])


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    # The model's patterns are searched, and their `$` means the very end (never before a
    # final line break, as Python's `$` would allow).
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    try:
        return re.compile(pattern)
    except re.error:  # a pattern Python cannot read is left to the service
        return None


def validate(value: Any, shape: str | None = None) -> list[Violation]:
    """Every violation of the service model in ``value`` (a request in the boto3 shape)."""
    return list(_check(value, shape or input_shape(), ()))


def _check(value: Any, name: str, path: Path_) -> Iterator[Violation]:
    shape = service_model()["shapes"][name]
    kind = shape["type"]
    if kind == "structure":
        yield from _structure(value, shape, name, path)
    elif kind == "list":
        if not isinstance(value, list):
            yield Violation(path, "E316", f"expected a list, found {type(value).__name__}", name)
            return
        yield from _size(len(value), shape, name, path, "items")
        for index, item in enumerate(value):
            yield from _check(item, shape["member"]["shape"], (*path, index))
    elif kind == "map":
        if not isinstance(value, dict):
            yield Violation(path, "E316", f"expected a map, found {type(value).__name__}", name)
            return
        yield from _size(len(value), shape, name, path, "entries")
        for key, item in value.items():
            yield from _check(key, shape["key"]["shape"], (*path, key))
            yield from _check(item, shape["value"]["shape"], (*path, key))
    elif kind == "string":
        yield from _string(value, shape, name, path)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            yield Violation(path, "E316", f"expected an integer, found {type(value).__name__}", name)
            return
        low, high = shape.get("min"), shape.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            yield Violation(path, "E315", f"{value} is out of range: {_range(low, high)}", name)
    elif kind == "boolean" and not isinstance(value, bool):
        yield Violation(path, "E316", f"expected true or false, found {type(value).__name__}", name)
    elif kind == "timestamp" and not isinstance(value, datetime) and not (isinstance(value, str) and _is_time(value)):
        yield Violation(path, "E316", f"expected a timestamp, found {value!r}", name)


def _structure(value: Any, shape: dict[str, Any], name: str, path: Path_) -> Iterator[Violation]:
    if not isinstance(value, dict):
        yield Violation(path, "E316", f"expected a structure, found {type(value).__name__}", name)
        return
    members = shape.get("members", {})
    for required in shape.get("required", []):
        if required not in value:
            yield Violation((*path, required), "E311", f"`{required}` is required", name)
    for key, item in value.items():
        if key not in members:
            yield Violation((*path, key), "E316", f"`{key}` is not a member of {name}", name)
        else:
            yield from _check(item, members[key]["shape"], (*path, key))


def _string(value: Any, shape: dict[str, Any], name: str, path: Path_) -> Iterator[Violation]:
    if not isinstance(value, str):
        yield Violation(path, "E316", f"expected a string, found {type(value).__name__}", name)
        return
    enum = shape.get("enum")
    if enum and value not in enum:
        yield Violation(path, "E312", f"`{value}` is not one of {', '.join(enum)}", name)
    yield from _size(len(value), shape, name, path, "characters")
    pattern = shape.get("pattern")
    compiled = _pattern(pattern) if pattern else None
    if compiled is not None and not compiled.search(value):
        yield Violation(path, "E313", f"`{value}` does not match the pattern {pattern} ({name})", name)


def _size(size: int, shape: dict[str, Any], name: str, path: Path_, unit: str) -> Iterator[Violation]:
    low, high = shape.get("min"), shape.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        yield Violation(path, "E314", f"has {size} {unit}; {name} allows {_range(low, high)}", name)


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def arn_pattern() -> re.Pattern[str]:
    """The model's pattern of an image build version ARN (anchored at the very end)."""
    compiled = _pattern(service_model()["shapes"]["ImageBuildVersionArn"]["pattern"])
    assert compiled is not None
    return compiled
