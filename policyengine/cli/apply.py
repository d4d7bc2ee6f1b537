"""`policyengine apply`: plan (or load a saved plan), show it, confirm, then send each request."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import (
    FiniteRange,
    TimestampParam,
    aws_options,
    import_root_option,
    live_aws,
    load_host,
    paths_argument,
    plugin_options,
    print_diagnostics,
    style_for,
)

SYMBOLS = {"accepted": ("+", "green"), "failed": ("x", "red"), "refused": ("!", "yellow"), "skipped": (".", "dim")}


@click.command("apply")
@paths_argument
@click.option("--inventory", type=click.Path(dir_okay=False), help="Plan against this inventory file, not AWS.")
@click.option("--now", type=TimestampParam(), help="The evaluation time of the plan (default: now).")
@click.option("--auto-approve", is_flag=True, help="Send without asking (required when stdin is not a terminal).")
@click.option("--allow-delete", is_flag=True, help="Allow `status deleted` requests, which cannot be undone.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Requests in flight.")
@click.option("--rate", type=FiniteRange(0.1, 1000), default=10.0, show_default=True,
              help="Requests per second at most; halved whenever the service throttles.")  # fmt: skip
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False), default=None,
              help="The journal of outcomes (JSON lines; default .policyengine/journal.jsonl).")  # fmt: skip
@click.option("--timeout", type=FiniteRange(0.05, 3600), default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait to connect, and for each answer, before retrying (same token).")  # fmt: skip
@click.option("--wait", is_flag=True, help="Follow each lifecycle execution to its end and report per resource.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@aws_options
@import_root_option
@plugin_options
def apply_command(
    paths: tuple[str, ...],
    inventory: str | None,
    now: datetime | None,
    auto_approve: bool,
    allow_delete: bool,
    concurrency: int,
    rate: float,
    journal_path: str | None,
    timeout: float,
    wait: bool,
    fmt: str,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    import_root: str | None,
    plugin: tuple[str, ...],
    trace_hooks: bool,
) -> None:
    """Apply the rules (PATH...) or a saved plan (PLANFILE): every request sent once in effect.

    Exit status: 0 when every request was accepted (now or by an earlier run), 1 when any
    failed or was refused, nothing was sent, or the journal could not be written.
    """
    from ..dispatch import Dispatcher, Item, Policy
    from ..journal import DEFAULT_JOURNAL, Journal

    host = load_host(plugin, trace_hooks)
    aws = live_aws(region, profile, endpoint_url)
    document, rules = _plan(paths, host, now, inventory, aws, import_root)
    out = sys.stdout if fmt == "text" else sys.stderr
    from ..formats.plan_text import render_text

    click.echo(render_text(document, style_for(out)), file=out)
    refused = [r for r in document["requests"] if r.get("errors")]
    if refused:
        click.echo(f"policyengine: error: the plan has {len(refused)} request(s) the service would refuse; "
                   "fix them first (nothing was sent)", err=True)  # fmt: skip
        raise click.exceptions.Exit(EXIT_FAIL)
    if not document["requests"]:
        click.echo("policyengine: nothing to apply", err=True)
        raise click.exceptions.Exit(EXIT_OK)
    journal = Journal(journal_path or DEFAULT_JOURNAL)
    journal.open()  # before anything is announced or sent: an unusable journal stops the run here
    _confirm(auto_approve, len(document["requests"]))
    from ..notify import notify_plan, notify_requests

    for failure in notify_plan(host, rules.values(), document):
        click.echo(f"policyengine: warning: {failure}", err=True)
    items = [Item(r["rule"], r["request"], rules.get(r["rule"])) for r in document["requests"]]
    progress = _Progress(len(items)) if sys.stderr.isatty() and fmt == "text" else None
    dispatcher = Dispatcher(aws, journal, host, concurrency=concurrency, rate=rate, burst=max(1, concurrency),
                            policy=Policy(timeout=timeout), allow_delete=allow_delete,
                            on_outcome=progress.step if progress else None)  # fmt: skip
    try:
        outcomes = dispatcher.run(items)
    finally:
        journal.close()
        if progress:
            progress.close()
    if wait:
        from ..executions import wait_for

        wait_for(aws, outcomes, request_timeout=timeout)
    told = [({"rule": i.rule, "request": i.request}, o.to_json()) for i, o in zip(items, outcomes, strict=True)]
    warnings = dispatcher.warnings + notify_requests(host, told, rules)
    for warning in warnings:
        click.echo(f"policyengine: warning: {warning}", err=True)
    _report(outcomes, fmt)
    ok = all(o.outcome in ("accepted", "skipped") for o in outcomes)
    ok = ok and all(o.execution in (None, "SUCCESS") for o in outcomes)
    if journal.failure is not None:
        _journal_failed(journal.failure, outcomes, dispatcher.unjournaled)
        ok = False
    raise click.exceptions.Exit(EXIT_OK if ok else EXIT_FAIL)


def _journal_failed(failure: str, outcomes: list[Any], unjournaled: list[Any]) -> None:
    """Say that the journal could not be written, what was not sent, and what the next run does."""
    unsent = sum(1 for o in outcomes if o.error_code == "JournalUnwritable")
    message = f"policyengine: error: {failure}; the run stopped: {unsent} request{'s' * (unsent != 1)} not sent"
    if unjournaled:
        tokens = ", ".join(o.clientToken for o in unjournaled)
        message += (f"; {len(unjournaled)} accepted but not recorded ({tokens}): the next run sends "
                    f"{'them' if len(unjournaled) > 1 else 'it'} again with the same client token, which the service"
                    " answers with the original execution, without acting again")  # fmt: skip
    click.echo(message + ". Make room for the journal, then run apply again.", err=True)


def _plan(
    paths: tuple[str, ...], host: Any, now: datetime | None, inventory: str | None, aws: Any, import_root: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plan document (made now, or a saved one checked), and the rules by name."""
    from ..engine import Options, check_paths
    from ..planning import load_plan, make_plan

    if len(paths) == 1 and paths[0].endswith(".json"):
        document = load_plan(paths[0], import_root)
        result = check_paths(document.get("files", []), Options(plugins=host, import_root=import_root))
        # The plan is applied as it was reviewed; what the checks say now is shown, and the
        # plugins' guards still judge every request just before it is sent.
        print_diagnostics(result.diagnostics, result.workspace.texts, "text", err=True)
        return document, {rule.name: rule for rule in result.rules}
    planned = make_plan(paths, host, now or datetime.now(UTC), inventory, aws, import_root)
    result, plan = planned.result, planned.plan
    print_diagnostics(result.diagnostics + (plan.diagnostics if plan else []), result.workspace.texts, "text",
                      err=True)  # fmt: skip
    if plan is None:
        raise click.exceptions.Exit(EXIT_FAIL)
    return plan.document, {rule.name: rule for rule in result.rules}


def _confirm(auto_approve: bool, count: int) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        click.echo("policyengine: error: stdin is not a terminal, so nothing can be confirmed: pass --auto-approve"
                   " to send (nothing was sent)", err=True)  # fmt: skip
        raise click.exceptions.Exit(EXIT_FAIL)
    if not click.confirm(f"Send {count} request{'s' * (count != 1)}?", default=False, err=True):
        click.echo("nothing was sent", err=True)
        raise click.exceptions.Exit(EXIT_FAIL)


class _Progress:
    """A progress bar on stderr, advanced from the worker threads."""

    def __init__(self, total: int) -> None:
        self._bar = click.progressbar(length=total, label="sending", file=sys.stderr)
        self._bar.__enter__()
        self._lock = threading.Lock()

    def step(self, item: Any, outcome: Any) -> None:
        with self._lock:
            self._bar.update(1)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)


def _report(outcomes: list[Any], fmt: str) -> None:
    counts = {kind: sum(1 for o in outcomes if o.outcome == kind) for kind in SYMBOLS}
    if fmt == "json":
        click.echo(json.dumps({"outcomes": [o.to_json() for o in outcomes], "summary": counts}, ensure_ascii=False))
        return
    style = style_for(sys.stdout)
    for o in outcomes:
        symbol, colour = SYMBOLS[o.outcome]
        detail = o.lifecycleExecutionId or ""
        if o.error_message:
            detail = f"{o.error_code}: {o.error_message}" if o.error_code else o.error_message
        if o.attempts > 1 or o.faults:
            faults = ", ".join(f"{what} x{n}" if n > 1 else what for what, n in o.faults.items())
            detail += f" ({o.attempts} attempt{'s' * (o.attempts != 1)}" + (f"; faults: {faults})" if faults else ")")
        click.echo(
            style(f"  {symbol} {o.outcome:<8} {o.rule}  {o.resourceArn}", colour) + (f"  {detail}" if detail else "")
        )
        if o.execution:
            click.echo(f"      execution {o.execution}: " + ", ".join(
                f"{r['resourceId']} {r['action']} {r['status']}" for r in o.results) or "no resources")  # fmt: skip
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    click.echo(style(f"Apply: {len(outcomes)} request{'s' * (len(outcomes) != 1)}: {summary}", "bold"))
