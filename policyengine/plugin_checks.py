"""What plugins add to `check`: selector and notifier names and arguments, and `check_rule`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import Diagnostic, Problem, Severity, Span, error
from .model import Call, Rule
from .plugins import PluginError, PluginHost, Registered
from .suggest import did_you_mean, one_of

_PLUGIN_CODE = re.compile(r"[A-Z][A-Z0-9]*[0-9]+")


def check_calls(rules: Iterable[Rule], host: PluginHost) -> list[Diagnostic]:
    """Every `select` and `notify` names a registered plugin function, with valid arguments."""
    out: list[Diagnostic] = []
    for rule in rules:
        for call in rule.selectors:
            out.extend(_check_call(call, host.selectors, "selector", "E210"))
        for call in rule.notify:
            out.extend(_check_call(call, host.notifiers, "notifier", "E211"))
    return _dedupe(out)


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
        message, hint = f"{where}: argument `{path}`: {e['msg'].removeprefix('Value error, ')}", None
    return error(span, "E317", message, hint)


def check_rules_with_plugins(rules: Iterable[Rule], host: PluginHost) -> list[Diagnostic]:
    """The problems that plugins' `check_rule` hooks report, at each rule, naming the plugin."""
    if not host.implementers("check_rule"):
        return []
    out: list[Diagnostic] = []
    for rule in rules:
        for plugin, problems in host.call_each("check_rule", rule=rule):
            if problems is None:
                continue
            if isinstance(problems, (str, Problem, Diagnostic)) or not isinstance(problems, Iterable):
                raise PluginError(plugin, f"`check_rule` must return a list of problems, not {type(problems).__name__}")
            out.extend(_plugin_problem(plugin, rule.name_span, p) for p in problems)
    return out


def _plugin_problem(plugin: str, span: Span, problem: object) -> Diagnostic:
    if isinstance(problem, Diagnostic):
        return Diagnostic(problem.span, problem.severity, problem.code, problem.message, problem.hint,
                          problem.notes, plugin)  # fmt: skip
    if isinstance(problem, str):
        problem = Problem(problem)
    if not isinstance(problem, Problem):
        raise PluginError(plugin, f"`check_rule` returned {problem!r}; return strings or policyengine.Problem")
    if problem.severity not in ("error", "warning"):
        raise PluginError(plugin, f"`check_rule` returned a problem of severity {problem.severity!r}")
    severity = Severity(problem.severity)
    code = problem.code or ("E499" if severity is Severity.ERROR else "W499")
    if not _PLUGIN_CODE.fullmatch(code):
        raise PluginError(plugin, f"`check_rule` returned the code {code!r}; use capitals then digits (PROD001)")
    return Diagnostic(span, severity, code, problem.message, problem.hint, (), plugin)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))
