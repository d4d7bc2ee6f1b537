"""Resolving `select` statements: calling selectors with the inventory, checking what they return."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import Diagnostic, error
from .inventory import Image
from .model import Call, Rule, Target
from .plugin_checks import validation_errors
from .plugins import PluginHost, Registered
from .servicemodel import service_model


@dataclass(frozen=True)
class SelectorContext:
    """What a selector is given besides its arguments."""

    now: datetime
    images: Sequence[Image]
    aws: Any = None  # boto3 client access for selectors that list images live


def resolve_selectors(
    rules: Iterable[Rule], host: PluginHost, context: SelectorContext
) -> tuple[dict[str, list[Target]], list[Diagnostic]]:
    """The targets each rule's selectors yield (by rule name), and the problems found."""
    pattern = re.compile(service_model()["shapes"]["ImageBuildVersionArn"]["pattern"].removesuffix("$") + r"\Z")
    targets: dict[str, list[Target]] = {}
    diagnostics: list[Diagnostic] = []
    for rule in rules:
        if not rule.selectors:
            continue
        found: dict[str, Target] = {}
        ok = True
        for call in rule.selectors:
            registered = host.selectors.get(call.name)
            if registered is None or validation_errors(registered, call.args):
                ok = False  # reported by plugin_checks.check_calls
                continue
            arns, problem = _run(registered, call, context, pattern)
            if problem is not None:
                diagnostics.append(problem)
                ok = False
            for arn in arns:
                found.setdefault(arn, Target(arn=arn, span=call.span))
        if ok:
            targets[rule.name] = list(found.values())
    return targets, diagnostics


def _run(
    registered: Registered, call: Call, context: SelectorContext, pattern: re.Pattern[str]
) -> tuple[list[str], Diagnostic | None]:
    where = f"selector `{call.name}` (plugin `{registered.plugin}`)"
    args = registered.model.model_validate(call.args) if registered.model else dict(call.args)
    try:
        result = registered.function(args, context)
        values = list(result) if result is not None else []
    except Exception as exc:
        return [], error(
            call.span,
            "E415",
            f"{where} failed: {type(exc).__name__}: {exc}",
            f"this is a problem in the plugin `{registered.plugin}`; report it to its authors",
        )
    arns = []
    for value in values:
        if not isinstance(value, str) or not pattern.search(value):
            return [], error(
                call.span,
                "E416",
                f"{where} returned {value!r}, which is not an image build version ARN",
                f"a selector returns ARNs such as arn:aws:imagebuilder:us-east-1:123456789012:image/"
                f"NAME/1.0.0/1; report this to the authors of `{registered.plugin}`",
            )
        arns.append(value)
    return arns, None
