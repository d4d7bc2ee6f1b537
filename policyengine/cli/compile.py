"""`policyengine compile`: the StartResourceStateUpdate requests the rules compile to."""

from __future__ import annotations

import json
from datetime import datetime

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import (
    TimestampParam,
    import_root_option,
    load_host,
    paths_argument,
    plugin_options,
    print_diagnostics,
)


@click.command("compile")
@paths_argument
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True, help="Output form.")
@click.option("--inventory", type=click.Path(dir_okay=False), help="Resolve selectors against this inventory file.")
@click.option("--now", type=TimestampParam(), help="The evaluation time for selectors (default: now).")
@import_root_option
@plugin_options
def compile_command(
    paths: tuple[str, ...],
    fmt: str,
    inventory: str | None,
    now: datetime | None,
    import_root: str | None,
    plugin: tuple[str, ...],
    trace_hooks: bool,
) -> None:
    """Print the requests the rules compile to, and the selectors still to resolve.

    With --inventory, selectors are resolved against the inventory file. With errors,
    nothing is printed on stdout: the diagnostics go to stderr and the exit status is 1.
    Warnings go to stderr too and do not change the exit status.
    """
    from ..engine import Options, check_paths
    from ..inventory import load_inventory

    host = load_host(plugin, trace_hooks)
    images = load_inventory(inventory).images if inventory else None
    result = check_paths(paths, Options(plugins=host, images=images, now=now, import_root=import_root))
    print_diagnostics(result.diagnostics, result.workspace.texts, "text", err=True)
    if not result.ok:
        raise click.exceptions.Exit(EXIT_FAIL)
    document = {
        "requests": [r.to_json() for r in result.compiled.requests],
        "unresolved": [u.to_json() for u in result.compiled.unresolved],
    }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    raise click.exceptions.Exit(EXIT_OK)
