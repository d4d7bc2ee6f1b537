"""Rule model to `StartResourceStateUpdate` requests, in the exact boto3 shape.

One request per (rule, distinct target ARN). Fields the rule does not set are absent;
lists are deduplicated and sorted, tag keys sorted, `updateAt` in UTC with `Z`, and the
`clientToken` derived from the rule's name and the canonical request unless the rule
gives one. Every request is validated against the service model, and each violation is
reported at the place in the rule file that produced the offending value.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from .constants import CLIENT_TOKEN_MAX
from .constraints import check_rule
from .errors import Diagnostic, Note, Span, error, unique, warning
from .model import Rule, Target
from .scope import format_time
from .servicemodel import Violation, validate

# Fixed forever: changing it would change every derived token, and so re-send requests.
TOKEN_NAMESPACE = uuid.UUID("6f1c2d4e-9a53-5b7e-8c21-3d4f5a6b7c8d")

# What each request field is called in a rule file, for messages.
_FIELD_WORDS = {
    "resourceArn": "target",
    "executionRole": "role",
    "clientToken": "token",
    "updateAt": "at",
    "regions": "region in",
    "sharedAccounts": "shared with",
    "lastLaunched": "launched within",
    "tagMap": "tag",
    "state": "status",
}
_SHAPE_HINTS = {
    "ImageBuildVersionArn": "an image build version ARN looks like "
    "arn:aws:imagebuilder:us-east-1:123456789012:image/my-image/1.0.0/1 (a lower-case name, a version, a build)",
    "AccountId": "an account id is 12 digits, written as a string",
    "TagKey": "a tag key has 1 to 128 letters, digits, spaces and `_ . : / = + - @`, and cannot start with `aws:`",
    "RoleNameOrArn": "give an IAM role name, or a role ARN such as arn:aws:iam::123456789012:role/NAME",
    "LifecyclePolicyDetailExclusionRulesAmisLastLaunchedValue": "a last-launched window is 1 to 365 units",
    "ClientToken": "a token has 1 to 64 characters (36 for older service versions)",
}


@dataclass
class CompiledRequest:
    """One request, the rule it came from, and where each of its fields was written."""

    rule: str
    file: str
    line: int
    request: dict[str, Any]
    provenance: dict[tuple[str | int, ...], Span] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The shape of `compile --format json`."""
        return {"rule": self.rule, "file": self.file, "line": self.line, "request": self.request}


@dataclass
class Unresolved:
    """A selector that only a later stage (with an inventory or AWS) can resolve."""

    rule: str
    file: str
    line: int
    selector: str
    args: dict[str, Any]
    span: Span

    def to_json(self) -> dict[str, Any]:
        """The shape of `compile --format json`'s `unresolved` entries."""
        return {"rule": self.rule, "file": self.file, "line": self.line, "selector": self.selector, "args": self.args}


@dataclass
class Compiled:
    """The compiler's output for a run."""

    requests: list[CompiledRequest]
    unresolved: list[Unresolved]
    diagnostics: list[Diagnostic]


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def derive_token(rule: str, request: dict[str, Any]) -> str:
    """A client token that is the same on every run and machine for the same rule and request."""
    body = {k: v for k, v in request.items() if k != "clientToken"}
    token = str(uuid.uuid5(TOKEN_NAMESPACE, rule + "\n" + canonical_json(body)))
    assert len(token) <= CLIENT_TOKEN_MAX
    return token


def compile_rules(
    rules: list[Rule], skip: frozenset[str] = frozenset(), selected: dict[str, list[Target]] | None = None
) -> Compiled:
    """Compile resolved rules; rules named in ``skip`` (already broken) get no checks.

    ``selected`` holds the targets that selectors yielded, by rule name; a rule with
    selectors that is not in it is listed as unresolved.
    """
    out = Compiled([], [], [])
    targeted: dict[str, tuple[str, Span]] = {}
    warned: set[tuple[str, Span]] = set()
    for rule in rules:
        if rule.name in skip:
            continue
        out.diagnostics.extend(check_rule(rule, warned))
        if selected is not None and rule.name in selected:
            targets = rule.with_selected(selected[rule.name])
        else:
            targets = list(rule.targets)
            for selector in rule.selectors:
                out.unresolved.append(
                    Unresolved(rule.name, rule.file, rule.line, selector.name, selector.args, selector.span)
                )
        for target in targets:
            compiled = compile_request(rule, target.arn, target.span)
            out.diagnostics.extend(service_diagnostics(compiled))
            if rule.status is None:  # already reported; the other fields were still checked
                continue
            out.requests.append(compiled)
            first = targeted.setdefault(target.arn, (rule.name, target.span))
            if first[0] != rule.name:
                out.diagnostics.append(
                    warning(
                        target.span,
                        "W004",
                        f"`{first[0]}` targets this image too",
                        "Image Builder runs one lifecycle execution per image at a time, and the second"
                        " request would undo or repeat the first: target each image from one rule",
                        Note(first[1], f"targeted by `{first[0]}` here"),
                    )
                )
    out.diagnostics = unique(out.diagnostics)
    return out


def compile_request(rule: Rule, arn: str, arn_span: Span) -> CompiledRequest:
    """The request for one target of a rule (without `state` when the rule has no valid status)."""
    prov: dict[tuple[str | int, ...], Span] = {("resourceArn",): arn_span}
    request: dict[str, Any] = {"resourceArn": arn}
    if rule.status and rule.status_span:
        request["state"] = {"status": rule.status.value.upper()}
        prov[("state",)] = rule.status_span
    if rule.role:
        request["executionRole"] = rule.role.value
        prov[("executionRole",)] = rule.role.span
    if rule.include:
        inc = rule.include
        request["includeResources"] = {"amis": inc.amis, "snapshots": inc.snapshots, "containers": inc.containers}
        prov[("includeResources",)] = inc.span
    if rule.exclusions:
        request["exclusionRules"] = {"amis": _exclusions(rule, prov)}
    if rule.at:
        request["updateAt"] = format_time(rule.at.value)
        prov[("updateAt",)] = rule.at.span
    if rule.token:
        request["clientToken"] = rule.token.value
        prov[("clientToken",)] = rule.token.span
    else:
        request["clientToken"] = derive_token(rule.name, request)
        prov[("clientToken",)] = rule.name_span
    return CompiledRequest(rule.name, rule.file, rule.line, request, prov)


def _exclusions(rule: Rule, prov: dict[tuple[str | int, ...], Span]) -> dict[str, Any]:
    assert rule.exclusions is not None
    ex = rule.exclusions
    base = ("exclusionRules", "amis")
    amis: dict[str, Any] = {}
    if ex.public:
        amis["isPublic"] = True
        prov[(*base, "isPublic")] = ex.public[0]
    for key, texts in (("regions", ex.regions), ("sharedAccounts", ex.shared_accounts)):
        if texts:
            spans = {t.value: t.span for t in reversed(texts)}  # the first place each value was written
            values = sorted(spans)
            amis[key] = values
            prov[(*base, key)] = texts[0].span
            for index, value in enumerate(values):
                prov[(*base, key, index)] = spans[value]
    if ex.last_launched:
        amis["lastLaunched"] = {"value": ex.last_launched.value, "unit": ex.last_launched.unit}
        prov[(*base, "lastLaunched")] = ex.last_launched.span
    if ex.tags:
        amis["tagMap"] = {key: ex.tags[key].value for key in sorted(ex.tags)}
        prov[(*base, "tagMap")] = next(iter(ex.tags.values())).span
        for key, text in ex.tags.items():
            prov[(*base, "tagMap", key)] = text.span
    if not amis:
        prov[base] = ex.spans[0]
    return amis


def service_diagnostics(compiled: CompiledRequest) -> list[Diagnostic]:
    """The request's service-model violations, each at the place that produced the value."""
    violations = validate(compiled.request)
    if "state" not in compiled.request:  # a missing or unknown status is reported by the resolver
        violations = [v for v in violations if v.path != ("state",)]
    return [_diagnostic(compiled, v) for v in violations]


def _diagnostic(compiled: CompiledRequest, v: Violation) -> Diagnostic:
    path = v.path
    span = None
    while path and span is None:
        span = compiled.provenance.get(path)
        path = path[:-1]
    words = [_FIELD_WORDS[p] for p in v.path if isinstance(p, str) and p in _FIELD_WORDS]
    what = f"`{words[-1]}`" if words else "the request"
    field_name = ".".join(str(p) for p in v.path)
    return error(
        span or compiled.provenance[("resourceArn",)], v.code,
        f"{what} ({field_name}): {v.message}", _SHAPE_HINTS.get(v.shape),
    )  # fmt: skip
