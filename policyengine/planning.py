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
from .inventory import Image, Inventory, load_inventory
from .plan import PLAN_VERSION, Plan, build_plan, file_digest, plan_digest
from .plugins import PluginHost
from .sources import read


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
    plan.document["plan_digest"] = plan_digest(plan.document)
    return Planned(result, plan)


def load_plan(path: str) -> dict[str, Any]:
    """A saved plan, checked: its version, and that no rule source changed since it was made."""
    source = read(path, path)
    if not hasattr(source, "text"):
        raise PolicyEngineError(getattr(source, "message", f"cannot read {path}"))
    try:
        document = json.loads(source.text)
    except ValueError as exc:
        raise PolicyEngineError(f"{path} is not a saved plan: {exc}") from exc
    if not _well_formed(document):
        raise PolicyEngineError(f"{path} is not a saved plan (make one with `policyengine plan --out {path}`)")
    if document.get("version") != PLAN_VERSION:
        raise PolicyEngineError(f"{path} is a plan of version {document.get('version')!r}; this policyengine reads "
                                f"version {PLAN_VERSION}: make the plan again")  # fmt: skip
    if document.get("plan_digest") != plan_digest(document):
        raise PolicyEngineError(f"{path} was changed after it was made (its requests no longer match its digest):"
                                " make the plan again instead of editing it")  # fmt: skip
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
    checked: dict[str, Any] = document
    return checked


def _well_formed(document: Any) -> bool:
    """The shape `apply` relies on: sources by path, and requests each with a rule and a request."""
    if not isinstance(document, dict):
        return False
    sources, requests = document.get("sources"), document.get("requests")
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        return False
    if not isinstance(requests, list) or not isinstance(document.get("files", []), list):
        return False
    return all(
        isinstance(r, dict) and isinstance(r.get("rule"), str) and isinstance(r.get("request"), dict)
        and isinstance(r["request"].get("resourceArn"), str) and isinstance(r["request"].get("clientToken"), str)
        and isinstance(r["request"].get("state"), dict)
        for r in requests
    )  # fmt: skip
