"""Telling notifiers: each distinct `notify` of the rules, once per event, failures reported."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .events import Event, EventRule
from .model import Call, Rule
from .plan import summarize
from .plugins import PluginError, PluginHost, shielded
from .selection import plugin_args


def notify_plan(host: PluginHost, rules: Iterable[Rule], document: dict[str, Any]) -> list[str]:
    """Send the `plan` event to every notifier the rules name; return what failed.

    Each distinct notifier call (name and arguments) is told once, with the part of the plan
    that belongs to the rules that named it; ``event.rule`` is that rule when there is one.
    """
    groups: dict[tuple[str, str], tuple[Call, list[Rule]]] = {}
    for rule in rules:
        for call in rule.notify:
            key = (call.name, json.dumps(call.args, sort_keys=True))
            groups.setdefault(key, (call, []))[1].append(rule)
    failures = []
    for call, named_by in groups.values():
        names = {r.name for r in named_by}
        requests = [r for r in document["requests"] if r["rule"] in names]
        part = dict(document, requests=requests, summary=summarize(requests))
        only = named_by[0] if len(named_by) == 1 else None
        about = _about(only) if only else None
        failure = send(host, call, Event("plan", rule=about, plan=part))
        if failure:
            failures.append(failure)
    return failures


def notify_requests(
    host: PluginHost, requests: Iterable[tuple[dict[str, Any], dict[str, Any]]], rules: dict[str, Rule]
) -> list[str]:
    """Send a `request` event for each (plan entry, outcome) to the notifiers of its rule; return what failed."""
    failures = []
    for entry, outcome in requests:
        rule = rules.get(entry["rule"])
        if rule is None:
            continue
        event = Event("request", rule=_about(rule), request=entry["request"], outcome=outcome)
        failures += [failure for call in rule.notify if (failure := send(host, call, event))]
    return failures


def _about(rule: Rule) -> EventRule:
    return EventRule(rule.name, rule.owner.value if rule.owner else None)


def send(host: PluginHost, call: Call, event: Event) -> str | None:
    """Call one notifier; a failure is returned as a message that names the plugin, never raised."""
    registered = host.notifiers.get(call.name)
    if registered is None:
        return f"notifier `{call.name}` is not registered"
    try:
        with shielded(registered.plugin, f"notifier `{call.name}`"):
            registered.function(event, plugin_args(registered, call.args))
    except PluginError as exc:
        return str(exc)
    return None
