"""`apply --wait`: follow each lifecycle execution until it ends, then read its per-resource results.

There is no botocore waiter for lifecycle executions, so this polls `GetLifecycleExecution`
and then pages through `ListLifecycleExecutionResources`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .aws import Aws, aws_errors
from .dispatch import Outcome
from .errors import PolicyEngineError

ENDED = frozenset({"SUCCESS", "FAILED", "CANCELLED"})


def wait_for(aws: Aws, outcomes: Iterable[Outcome], poll: float = 2.0, timeout: float = 3600.0,
             request_timeout: float = 60.0) -> None:  # fmt: skip
    """Fill ``execution`` and ``results`` of every accepted outcome that started an execution.

    ``timeout`` bounds the wait for each execution; ``request_timeout`` each call (connect and read).
    """
    for outcome in outcomes:
        if outcome.outcome != "accepted" or not outcome.lifecycleExecutionId:
            continue
        try:
            _follow(aws, outcome, poll, timeout, request_timeout)
        except PolicyEngineError as exc:  # one execution that cannot be read does not hide the others
            outcome.execution = f"unknown: {exc}"


def _follow(aws: Aws, outcome: Outcome, poll: float, timeout: float, request_timeout: float) -> None:
    client = aws.client("imagebuilder", outcome.resourceArn.split(":")[3], timeout=request_timeout)
    execution_id = str(outcome.lifecycleExecutionId)
    deadline = time.monotonic() + timeout
    status = ""
    while True:
        try:
            with aws_errors(f"GetLifecycleExecution {execution_id}"):
                execution = client.get_lifecycle_execution(lifecycleExecutionId=execution_id)["lifecycleExecution"]
            status = execution.get("state", {}).get("status", "")
        except PolicyEngineError:
            if time.monotonic() > deadline:
                raise
            status = ""  # throttled or a passing fault: ask again after the pause
        if status in ENDED or time.monotonic() > deadline:
            break
        time.sleep(poll)
    outcome.execution = status if status in ENDED else f"{status} (still running after {timeout:.0f} s)"
    with aws_errors(f"ListLifecycleExecutionResources {execution_id}"):
        outcome.results = list(_resources(client, execution_id))


def _resources(client: Any, execution_id: str) -> Iterable[dict[str, Any]]:
    """The image, then what it reached (AMIs with their snapshots, containers): two levels."""
    for top in _pages(client, execution_id, None):
        yield _entry(top)
        for child in _pages(client, execution_id, top.get("resourceId")):
            entry = _entry(child)
            yield entry
            for snapshot in child.get("snapshots", []):
                state = snapshot.get("state", {})
                yield {**entry, "resourceId": snapshot.get("snapshotId"), "status": state.get("status"),
                       "reason": state.get("reason")}  # fmt: skip


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceId": resource.get("resourceId"),
        "region": resource.get("region"),
        "accountId": resource.get("accountId"),
        "action": resource.get("action", {}).get("name"),
        "status": resource.get("state", {}).get("status"),
        "reason": resource.get("state", {}).get("reason"),
    }


def _pages(client: Any, execution_id: str, parent: str | None) -> Iterable[dict[str, Any]]:
    token = None
    while True:
        options = {"lifecycleExecutionId": execution_id}
        if parent:
            options["parentResourceId"] = parent
        if token:
            options["nextToken"] = token
        page = client.list_lifecycle_execution_resources(**options)
        yield from page.get("resources", [])
        token = page.get("nextToken")
        if not token:
            return
