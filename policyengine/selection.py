"""Resolving `select` statements: calling selectors with the inventory, checking what they return."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .constants import MAX_RUN_VALUES, REQUEST_VALUES
from .errors import Diagnostic, error
from .inventory import Image
from .model import Call, Rule, Target
from .plugin_checks import validation_errors
from .plugins import PluginError, PluginHost, Registered, shielded
from .servicemodel import arn_pattern


class Deferred(Sequence[Image]):
    """Images fetched on first use: live listings cost AWS calls that rules without selectors never need."""

    def __init__(self, load: Callable[[], Sequence[Image]]) -> None:
        self._load = load
        self._images: Sequence[Image] | None = None

    def _get(self) -> Sequence[Image]:
        if self._images is None:
            self._images = tuple(self._load())
        return self._images

    def __getitem__(self, index: Any) -> Any:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())


@dataclass(frozen=True)
class SelectorContext:
    """What a selector is given besides its arguments."""

    now: datetime  # aware, UTC
    images: Sequence[Image]  # read-only: the inventory's images
    aws: Any = None  # boto3 client access for selectors that list images live


def resolve_selectors(
    rules: Iterable[Rule], host: PluginHost, context: SelectorContext
) -> tuple[dict[str, list[Target]], list[Diagnostic]]:
    """The targets each rule's selectors yield (by rule name), and the problems found."""
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
            arns, problem = _run(registered, call, context)
            if problem is not None:
                diagnostics.append(problem)
                ok = False
            for arn in arns:
                found.setdefault(arn, Target(arn=arn, span=call.span))
        if ok:
            targets[rule.name] = list(found.values())
    return targets, diagnostics


def plugin_args(registered: Registered, args: dict[str, Any]) -> Any:
    """A call's arguments as the plugin receives them: its model, or a copy of the dict."""
    if registered.model is None:
        return copy.deepcopy(args)
    with shielded(registered.plugin, "its argument model"):
        return registered.model.model_validate(args)


def _run(registered: Registered, call: Call, context: SelectorContext) -> tuple[list[str], Diagnostic | None]:
    where = f"selector `{call.name}` (plugin `{registered.plugin}`)"
    try:
        with shielded(registered.plugin, f"selector `{call.name}`"):
            result = registered.function(plugin_args(registered, call.args), context)
            values = list(result) if result is not None else []
    except PluginError as exc:
        problem = error(call.span, "E415", f"{where} failed: {exc.reason}",
                        f"this is a problem in the plugin `{registered.plugin}`; report it to its authors")  # fmt: skip
        return [], replace(problem, source=registered.plugin)
    arns = []
    pattern = arn_pattern()
    for value in values:
        if not isinstance(value, str) or not pattern.search(value):
            shown = f"{value!r:.200}"
            problem = error(call.span, "E416", f"{where} returned {shown}, which is not an image build version ARN",
                            "a selector returns ARNs such as arn:aws:imagebuilder:us-east-1:123456789012:image/"
                            f"NAME/1.0.0/1; report this to the authors of `{registered.plugin}`")  # fmt: skip
            return [], replace(problem, source=registered.plugin)
        arns.append(value)
    return arns, None


def charge_selected(
    rules: Sequence[Rule], selected: dict[str, list[Target]], spent: int, over: set[str]
) -> list[Diagnostic]:
    """Charge the targets selectors found to the run's budget of values (E319), as written ones are.

    Each selected target makes a request that carries the rule's exclusions. Past the budget, the
    rule is reported once and added to ``over`` (not compiled), like every rule after it.
    """
    for index, rule in enumerate(rules):
        found = selected.get(rule.name)
        if not found:
            continue
        ex = rule.exclusions
        values = REQUEST_VALUES + (len(ex.regions) + len(ex.shared_accounts) + len(ex.tags) + 2 if ex else 0)
        spent += len(found) * values
        if spent > MAX_RUN_VALUES:
            over.update(r.name for r in rules[index:] if selected.get(r.name))
            message = (f"with the images its selectors found, the rules of this run add up to more than "
                       f"{MAX_RUN_VALUES:,} values; from here on, rules with selectors are not compiled")  # fmt: skip
            return [error(rule.name_span, "E319", message, "narrow the selectors, or split the rules up")]
    return []
