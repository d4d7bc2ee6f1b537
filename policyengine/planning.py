"""Making a plan, and loading a saved one back.

A plan is made from rule files against an inventory file or AWS read live; a saved plan is
refused when the rule sources changed since it was made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .engine import Options, Result, check_paths
from .errors import PolicyEngineError
from .inventory import Image, Inventory, json_path, load_inventory
from .plan import PLAN_VERSION, Plan, build_plan, file_digest, plan_digest
from .plugins import PluginHost
from .servicemodel import validate
from .sources import import_roots, inside, read


@dataclass
class Planned:
    """The front end's result, and the plan when the rules had no errors."""

    result: Result
    plan: Plan | None


def make_plan(
    paths: Sequence[str],
    host: PluginHost,
    now: datetime,
    inventory: str | None,
    aws: Any = None,
    import_root: str | None = None,
) -> Planned:
    """Check the rules and simulate their requests against ``inventory`` or AWS read live (``aws``)."""
    if inventory:
        images: Inventory | None = load_inventory(inventory)
        choices: Sequence[Image] = images.images if images else ()
    else:
        from .live import list_images
        from .selection import Deferred

        images, choices = None, Deferred(lambda: list_images(aws))
    result = check_paths(paths, Options(plugins=host, images=choices, now=now, aws=aws, import_root=import_root))
    if not result.ok:
        return Planned(result, None)
    if images is None:
        from .live import read_inventory

        images, _ = read_inventory(aws, [r.request["resourceArn"] for r in result.compiled.requests])
    plan = build_plan(result.compiled.requests, images, now, result.workspace.texts)
    plan.document["files"] = list(result.workspace.run_files)
    return Planned(result, plan)


def load_plan(path: str, import_root: str | None = None) -> dict[str, Any]:
    """A saved plan, checked: version, shape, digest, unchanged rule sources, valid requests.

    The rule files it names must lie in the repository of the current directory (or below
    ``import_root``): a plan file is input, and must not make `apply` read or show other files.
    """
    source = read(path, path)
    if not hasattr(source, "text"):
        raise PolicyEngineError(getattr(source, "message", f"cannot read {path}"))
    try:
        document = json.loads(source.text)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "it nests too deeply"
        raise PolicyEngineError(f"{path} is not a saved plan: {reason}") from None
    if isinstance(document, dict) and "version" in document and document["version"] != PLAN_VERSION:
        raise PolicyEngineError(f"{path} is a plan of version {document['version']!r}; this policyengine reads "
                                f"version {PLAN_VERSION}: make the plan again")  # fmt: skip
    problem = shape_problem(document)
    if problem:
        raise PolicyEngineError(f"{path} is not a saved plan: {problem} (make one with `policyengine plan --out`)")
    if document.get("plan_digest") != plan_digest(document):
        raise PolicyEngineError(f"{path} was changed after it was made (its contents no longer match its digest):"
                                " make the plan again instead of editing it")  # fmt: skip
    roots = import_roots(["."], import_root)
    for file in [*document.get("files", []), *document["sources"]]:
        if "\x00" in file or not inside(file, roots):
            raise PolicyEngineError(f"{path} names the rule file `{file}`, outside the repository of this run "
                                    f"({', '.join(roots)}): run `apply` there, or pass --import-root")  # fmt: skip
    changed = []
    for file, digest in sorted(document["sources"].items()):
        current = read(file, file)
        if not hasattr(current, "text"):
            changed.append(f"{file} (gone)")
        elif file_digest(current.text) != digest:
            changed.append(f"{file} (changed)")
    if changed:
        raise PolicyEngineError(f"the rule sources changed since the plan {path} was made: {', '.join(changed)};"
                                " make the plan again")  # fmt: skip
    for n, item in enumerate(document["requests"]):
        for violation in validate(item["request"]):
            where = json_path(("requests", n, "request", *violation.path))
            raise PolicyEngineError(f"{path} is not a saved plan: {where}: {violation.message}")
    _showable(path, document)
    checked: dict[str, Any] = document
    return checked


def _showable(path: str, document: dict[str, Any]) -> None:
    """A saved plan is shown before it is applied: one that cannot be is refused, naming what broke."""
    from .formats.plan_text import render_text
    from .formats.style import Style

    try:
        render_text(document, Style(False))
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise PolicyEngineError(f"{path} is not a saved plan: it cannot be shown ({reason})") from None


_MISSING = object()


def shape_problem(document: Any) -> str | None:
    """What breaks the shape `apply` relies on, at its JSON path; None when the shape is right."""
    if not isinstance(document, dict):
        return f"$: expected an object, found {_kind(document)}"
    expected: list[tuple[str, Any, type]] = [
        ("$.version", document.get("version", _MISSING), int), ("$.sources", document.get("sources", _MISSING), dict),
        ("$.requests", document.get("requests", _MISSING), list), ("$.files", document.get("files", []), list),
        ("$.plan_digest", document.get("plan_digest", _MISSING), str),
    ]  # fmt: skip
    for key, value in document["sources"].items() if isinstance(document.get("sources"), dict) else ():
        expected.append((f"$.sources[{json.dumps(key)}]", value, str))
    for n, file in enumerate(document["files"] if isinstance(document.get("files"), list) else ()):
        expected.append((f"$.files[{n}]", file, str))
    for n, item in enumerate(document["requests"] if isinstance(document.get("requests"), list) else ()):
        at = f"$.requests[{n}]"
        expected.append((at, item, dict))
        if isinstance(item, dict):
            expected += [(f"{at}.rule", item.get("rule", _MISSING), str),
                         (f"{at}.request", item.get("request", _MISSING), dict)]  # fmt: skip
            request = item.get("request")
            if isinstance(request, dict):
                members = (("resourceArn", str), ("clientToken", str), ("state", dict))
                expected += [(f"{at}.request.{name}", request.get(name, _MISSING), kind) for name, kind in members]
    for where, value, kind in expected:
        if not isinstance(value, kind) or isinstance(value, bool):
            wanted = {int: "a number", dict: "an object", list: "a list", str: "a string"}[kind]
            found = "nothing" if value is _MISSING else _kind(value)
            return f"{where}: expected {wanted}, found {found}"
    return None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
