"""The plugin hooks: the contract that plugin authors code against (docs/plugins.md).

Hooks are always called with keyword arguments, so an implementation may accept only the
arguments it needs, and arguments can be added later without breaking anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from .constants import PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_selectors(register: Callable[..., None]) -> None:
    """Add selectors: called once, at start-up.

    Call ``register(name, function)`` or ``register(name, function, model)`` for each
    selector. ``function(args, context)`` returns an iterable of image build version ARNs;
    ``args`` is the dict of arguments written in the rule (a duration as
    ``{"value": 180, "unit": "DAYS"}``), or an instance of ``model`` (a pydantic model) when one
    is given, in which case a wrong argument is a diagnostic at its line and column.
    ``context`` has ``now`` (an aware UTC datetime), ``images`` (the inventory's images) and
    ``aws`` (boto3 clients for selectors that list images live). Returns nothing.
    """


@hookspec
def register_notifiers(register: Callable[..., None]) -> None:
    """Add notifiers: called once, at start-up.

    Call ``register(name, function)`` or ``register(name, function, model)``.
    ``function(event, args)`` is told about a plan (``event.kind == "plan"``) and about each
    request that ended (``event.kind == "request"``); ``args`` as for selectors. Returns
    nothing; an exception in a notifier is reported and changes nothing else.
    """


@hookspec
def check_rule(rule: Any) -> list[Any] | None:
    """Check one resolved rule: called for every rule by `check`, `compile`, `plan` and `apply`.

    ``rule`` is the read-only rule model (``rule.name``, ``rule.owner``, ``rule.status``,
    ``rule.targets``, ``rule.include``, ``rule.exclusions``, ...). Return a list of problems:
    message strings (errors), or ``policyengine.Problem`` objects with a severity, a hint and a
    code of your own. They are reported like the engine's own, at the rule's location, naming
    the plugin. Return an empty list or None when all is well.
    """


@hookspec
def before_request(request: dict[str, Any], rule: Any) -> None:
    """Guard a request just before it is sent: raise ``policyengine.Refuse("why")`` to refuse it.

    ``request`` is the `StartResourceStateUpdate` request in the boto3 shape (read it, do not
    change it); ``rule`` the rule it came from. A refused request is reported as refused and
    is not sent. Returns nothing.
    """


@hookspec
def after_request(request: dict[str, Any], rule: Any, outcome: dict[str, Any]) -> None:
    """Learn how a request ended (accepted, failed or refused).

    ``outcome`` has the shape of one entry of `apply --format json`. Returns nothing; an
    exception here is reported and does not stop the run.
    """
