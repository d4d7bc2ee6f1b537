"""`policyengine compile`: the StartResourceStateUpdate requests the rules compile to."""

from __future__ import annotations

import json

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import paths_argument, print_diagnostics


@click.command("compile")
@paths_argument
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True, help="Output form.")
def compile_command(paths: tuple[str, ...], fmt: str) -> None:
    """Print the requests the rules compile to, and the selectors still to resolve.

    With errors nothing is printed on stdout: the diagnostics go to stderr and the exit
    status is 1. Warnings go to stderr too and do not change the exit status.
    """
    from ..engine import check_paths

    result = check_paths(paths)
    print_diagnostics(result.diagnostics, result.workspace.texts, "text", err=True)
    if not result.ok:
        raise click.exceptions.Exit(EXIT_FAIL)
    document = {
        "requests": [r.to_json() for r in result.compiled.requests],
        "unresolved": [u.to_json() for u in result.compiled.unresolved],
    }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    raise click.exceptions.Exit(EXIT_OK)
