"""`policyengine plan`: the dry-run, AMI by AMI, with the reason for each verdict."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import (
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

EXIT_CHANGES = 2


@click.command("plan")
@paths_argument
@click.option(
    "--inventory", type=click.Path(dir_okay=False),
    help="Simulate against this inventory file instead of reading AWS live (read-only).",
)  # fmt: skip
@click.option("--now", type=TimestampParam(), help="The evaluation time (default: the current time).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output form; markdown is ready to post as a pull-request comment.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False), help="Also save the plan (JSON) to this file.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on errors.")
@click.option("--no-notify", is_flag=True,
              help="Tell no notifier (for planning rule changes not yet trusted, e.g. on pull requests).")  # fmt: skip
@aws_options
@import_root_option
@plugin_options
def plan_command(
    paths: tuple[str, ...],
    inventory: str | None,
    now: datetime | None,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    no_notify: bool,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    import_root: str | None,
    plugin: tuple[str, ...],
    trace_hooks: bool,
) -> None:
    """Preview what applying the rules would do, resource by resource, and why.

    Simulates against --inventory FILE, or reads AWS live and strictly read-only.

    Exit status: 0, or 1 on errors (in the rules, or a request the simulation shows the
    service would refuse); with --detailed-exitcode, 0 no changes, 2 changes, 1 errors.
    """
    from ..notify import notify_plan
    from ..plan import plan_text
    from ..planning import make_plan
    from ..reformat import write_atomically

    host = load_host(plugin, trace_hooks)
    moment = now or datetime.now(UTC)
    aws = None if inventory else live_aws(region, profile, endpoint_url)
    planned = make_plan(paths, host, moment, inventory, aws, import_root)
    result, plan = planned.result, planned.plan
    if plan is None:
        print_diagnostics(result.diagnostics, result.workspace.texts, "text", err=True)
        raise click.exceptions.Exit(EXIT_FAIL)
    print_diagnostics(result.diagnostics + plan.diagnostics, result.workspace.texts, "text", err=True)
    # Compact JSON: Python's indenting encoder is pure Python and triples the time of a large plan.
    text = plan_text(plan.document)
    if fmt == "json":
        click.echo(text)
    elif fmt == "markdown":
        from ..formats.plan_markdown import render_markdown

        click.echo(render_markdown(plan.document), nl=False)
    else:
        from ..formats.plan_text import render_text

        click.echo(render_text(plan.document, style_for(sys.stdout)))
    if out:
        write_atomically(out, text + "\n")
    for failure in [] if no_notify else notify_plan(host, result.rules, plan.document):
        click.echo(f"policyengine: warning: {failure}", err=True)
    if plan.diagnostics:
        raise click.exceptions.Exit(EXIT_FAIL)
    if detailed_exitcode and plan.changes:
        raise click.exceptions.Exit(EXIT_CHANGES)
    raise click.exceptions.Exit(EXIT_OK)
