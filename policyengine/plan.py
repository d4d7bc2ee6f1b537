"""A plan: every compiled request with its simulated resources.

The shape of `plan --format json` and of the saved plan file, with the digest of the rule
sources that `apply` checks before it trusts a saved plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .compiler import CompiledRequest
from .errors import Diagnostic, error
from .inventory import Inventory
from .scope import format_time
from .simulate import UNCERTAIN, UPDATE, VERDICTS, simulate

PLAN_VERSION = 1


@dataclass
class Plan:
    """The plan document and the problems the simulation found (requests the service would refuse)."""

    document: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """True when applying the plan would (or might) change something."""
        return any(
            resource["verdict"] in (UPDATE, UNCERTAIN)
            for request in self.document["requests"]
            for resource in request["resources"]
        )


DIGEST_KEY = "plan_digest"


def _body(document: dict[str, Any]) -> str:
    said = {key: value for key, value in document.items() if key != DIGEST_KEY}
    return json.dumps(said, separators=(",", ":"), ensure_ascii=False, default=str)


def plan_digest(document: dict[str, Any]) -> str:
    """The digest of a plan: everything it says (requests, resources, reasons, files), but the digest.

    Computed over the compact JSON of the members in their order, so a saved plan read back
    gives the same digest; reordering its members by hand counts as an edit.
    """
    return _digest(_body(document))


def _digest(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def plan_text(document: dict[str, Any]) -> str:
    """The plan as printed and saved: compact JSON ending with the digest of all before it (set in ``document``)."""
    body = _body(document)  # serialised once: for a large plan this is the costly part
    document[DIGEST_KEY] = digest = _digest(body)
    return f'{body[:-1]},"{DIGEST_KEY}":"{digest}"}}'


def file_digest(text: str) -> str:
    """The digest of one rule source."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def sources_digest(texts: Mapping[str, str]) -> str:
    """A digest of every rule source (path and contents) a plan was made from."""
    digest = hashlib.sha256()
    for path in sorted(texts):
        digest.update(path.encode() + b"\0" + hashlib.sha256(texts[path].encode()).digest())
    return "sha256:" + digest.hexdigest()


def build_plan(
    requests: Iterable[CompiledRequest], inventory: Inventory, now: datetime, texts: Mapping[str, str]
) -> Plan:
    """Simulate every request against the inventory at ``now``."""
    images = inventory.by_arn()
    entries = []
    diagnostics: list[Diagnostic] = []
    for compiled in requests:
        outcome = simulate(compiled.request, images.get(compiled.request["resourceArn"]), now)
        entry = {
            **compiled.to_json(),
            "resources": outcome.resources,
            "warnings": outcome.warnings,
        }
        if outcome.errors:
            entry["errors"] = outcome.errors
            span = compiled.provenance[("resourceArn",)]
            if "updateAt" in compiled.request and "future" in outcome.errors[0]:
                span = compiled.provenance.get(("updateAt",), span)
            diagnostics.extend(
                error(span, "E420", f"rule `{compiled.rule}`: the service would refuse this request: {message}",
                      "see the image's state in the inventory, or change the rule")
                for message in outcome.errors
            )  # fmt: skip
        entries.append(entry)
    document = {
        "version": PLAN_VERSION,
        "now": format_time(now),
        "sources_digest": sources_digest(texts),
        "sources": {path: file_digest(texts[path]) for path in sorted(texts)},
        "requests": entries,
        "summary": summarize(entries),
    }
    return Plan(document, diagnostics)


def summarize(requests: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many requests, refused requests, and resources of each verdict."""
    summary = {"requests": 0, **dict.fromkeys(VERDICTS, 0), "refused": 0}
    for request in requests:
        summary["requests"] += 1
        summary["refused"] += bool(request.get("errors"))
        for resource in request["resources"]:
            summary[resource["verdict"]] += 1
    return summary
