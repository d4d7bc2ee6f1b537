"""What notifiers are told: a plan, or a request that ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventRule:
    """The rule an event is about."""

    name: str
    owner: str | None = None


@dataclass(frozen=True)
class Event:
    """A notifier's event: ``kind`` is ``plan`` (once per run) or ``request`` (once per request).

    ``plan``, ``request`` and ``outcome`` are plain JSON-able dicts in the shapes of
    `plan --format json` and `apply --format json`.
    """

    kind: str
    rule: EventRule | None = None
    plan: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as JSON (what `file` writes and `webhook` posts)."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.rule is not None:
            data["rule"] = {"name": self.rule.name, "owner": self.rule.owner}
        for key in ("plan", "request", "outcome"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def summary(self) -> str:
        """One line for people."""
        if self.kind == "plan" and self.plan is not None:
            counts = self.plan.get("summary", {})
            parts = ", ".join(f"{v} {k}" for k, v in counts.items() if k != "requests" and v)
            n = counts.get("requests", 0)
            return f"plan: {n} request{'s' * (n != 1)}" + (f" ({parts})" if parts else "")
        rule = f"rule `{self.rule.name}`" if self.rule else "a rule"
        outcome = (self.outcome or {}).get("outcome", "ended")
        arn = (self.request or {}).get("resourceArn", "")
        return f"request of {rule} {outcome}: {arn}".rstrip(": ")
