"""What plugins add to `check`: selector and notifier names and arguments, and `check_rule`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .errors import Diagnostic, Problem, Severity, Span, error, unique
from .model import Call, Rule, Target
from .plugins import PluginError, PluginHost, Registered, shielded
from .suggest import did_you_mean, one_of

_PLUGIN_CODE = re.compile(r"[A-Z][A-Z0-9]*[0-9]+")
_ENGINE_CODE = re.compile(r"[EW][0-9]+")  # the engine's own codes: plugins choose others


def check_calls(rules: Iterable[Rule], host: PluginHost) -> list[Diagnostic]:
    """Every `select` and `notify` names a registered plugin function, with valid arguments."""
    out: list[Diagnostic] = []
    for rule in rules:
        for call in rule.selectors:
            out.extend(_check_call(call, host.selectors, "selector", "E210"))
        for call in rule.notify:
            out.extend(_check_call(call, host.notifiers, "notifier", "E211"))
    return unique(out)


def _check_call(call: Call, registry: dict[str, Registered], kind: str, code: str) -> list[Diagnostic]:
    registered = registry.get(call.name)
    if registered is None:
        known = sorted(registry)
        hint = did_you_mean(call.name, known, f"known {kind}s: {one_of(known)}; a plugin can add more")
        return [error(call.name_span, code, f"unknown {kind} `{call.name}`", hint)]
    if registered.model is None:
        return []
    return [_argument_problem(call, registered, e) for e in validation_errors(registered, call.args)]


def validation_errors(registered: Registered, args: dict[str, Any]) -> list[Any]:
    """The pydantic errors of ``args`` against the registered model (none without one).

    An argument the model does not know is an error even when the model would ignore it
    (pydantic's default): a misspelt argument must never be dropped silently.
    """
    from pydantic import ValidationError

    model = registered.model
    if model is None:
        return []
    errors: list[Any] = []
    if model.model_config.get("extra") in (None, "ignore"):
        known = {name for name, f in model.model_fields.items()} | {
            f.alias for f in model.model_fields.values() if f.alias
        }
        errors += [{"loc": (key,), "type": "extra_forbidden", "msg": "unknown"} for key in args if key not in known]
    with shielded(registered.plugin, f"the argument model of {registered.kind} `{registered.name}`"):
        try:
            model.model_validate(args)
        except ValidationError as exc:
            errors += list(exc.errors())
    return errors


def _argument_problem(call: Call, registered: Registered, e: Any) -> Diagnostic:
    loc = [str(p) for p in e["loc"]]
    name = loc[0] if loc else None
    span = call.arg_spans.get(name, call.span) if name else call.span
    where = f"{registered.kind} `{call.name}` (plugin `{registered.plugin}`)"
    if e["type"] == "extra_forbidden":
        fields = sorted(registered.model.model_fields)
        hint = did_you_mean(name or "", fields, f"it takes {one_of(fields)}" if fields else "it takes no arguments")
        message = f"{where} has no argument `{name}`"
    elif e["type"] == "missing":
        message, hint = f"{where} needs the argument `{name}`", f"add `{name}: ...` in the parentheses"
        span = call.span
    else:
        path = ".".join(loc)
        reason = e["msg"].removeprefix("Value error, ")
        message, hint = (f"{where}: argument `{path}`: {reason}" if path else f"{where}: {reason}"), None
    return replace(error(span, "E317", message, hint), source=registered.plugin)


def check_rules_with_plugins(
    rules: Iterable[Rule], host: PluginHost, selected: Mapping[str, list[Target]] | None = None
) -> list[Diagnostic]:
    """The problems that plugins' `check_rule` hooks report, at each rule, naming the plugin.

    Each plugin gets its own copy of the (frozen) rule, with fresh lists of targets (including
    those its selectors found, when an inventory resolved them), selectors and notifiers, so
    that no plugin changes what another sees or what is sent. A deep copy would be safer
    still, but costs more than the check itself on large rule sets (docs/benchmarks.md).
    """
    plugins = host.implementers("check_rule")
    if not plugins:
        return []
    out: list[Diagnostic] = []
    for rule in rules:
        targets = rule.with_selected((selected or {}).get(rule.name, ()))
        for plugin in plugins:
            view = rule.model_copy(
                update={"targets": list(targets), "selectors": list(rule.selectors), "notify": list(rule.notify)}
            )
            with shielded(plugin, "hook `check_rule`"):
                problems = host.call_one("check_rule", plugin, rule=view)
                if problems is None:
                    continue
                if isinstance(problems, (str, Problem, Diagnostic, Mapping)) or not isinstance(problems, Iterable):
                    raise PluginError(
                        plugin, f"`check_rule` must return a list of problems, not {type(problems).__name__}"
                    )
                out.extend(_plugin_problem(plugin, rule.name_span, p) for p in list(problems))
    return out


def _plugin_problem(plugin: str, span: Span, problem: object) -> Diagnostic:
    """A plugin's problem as a diagnostic at the rule's name (whatever span it carried)."""
    if isinstance(problem, Diagnostic):
        problem = Problem(problem.message, str(getattr(problem.severity, "value", problem.severity)), problem.hint,
                          problem.code)  # fmt: skip
    if isinstance(problem, str):
        problem = Problem(problem)
    if not isinstance(problem, Problem):
        raise PluginError(plugin, f"`check_rule` returned {problem!r:.80}; return strings or policyengine.Problem")
    if not isinstance(problem.message, str) or not (problem.hint is None or isinstance(problem.hint, str)):
        raise PluginError(plugin, "`check_rule` returned a problem whose message or hint is not a string")
    if problem.severity not in ("error", "warning"):
        raise PluginError(plugin, f"`check_rule` returned a problem of severity {problem.severity!r}")
    severity = Severity(problem.severity)
    code = problem.code or ("E499" if severity is Severity.ERROR else "W499")
    if not isinstance(code, str) or not _PLUGIN_CODE.fullmatch(code) or (problem.code and _ENGINE_CODE.fullmatch(code)):
        raise PluginError(
            plugin,
            f"`check_rule` returned the code {code!r}; use capitals then digits, unlike the engine's E123"
            " and W123 (PROD001)",
        )
    return Diagnostic(span, severity, code, problem.message, problem.hint, (), plugin)
