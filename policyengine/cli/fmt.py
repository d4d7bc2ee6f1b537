"""`policyengine fmt`: rewrite rule files in their canonical layout."""

from __future__ import annotations

import sys

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import paths_argument, print_diagnostics


@click.command()
@paths_argument
@click.option("--check", "check_only", is_flag=True, help="Change nothing; list the files that would change.")
@click.option("--diff", is_flag=True, help="Change nothing; print a unified diff of what would change.")
def fmt(paths: tuple[str, ...], check_only: bool, diff: bool) -> None:
    """Rewrite rule files in canonical form, keeping every comment.

    Exit status: 0, or 1 with --check when a file would change (or when a file cannot be
    formatted because it has syntax errors).
    """
    from ..reformat import format_paths

    outcome = format_paths(paths, write=not (check_only or diff))
    print_diagnostics(outcome.diagnostics, outcome.texts, "text", err=True)
    for change in outcome.changes:
        if diff:
            click.echo(change.diff(), nl=False)
        elif check_only:
            click.echo(change.path)
        else:
            click.echo(f"reformatted {change.path}", err=True)
    unchanged = outcome.files - len(outcome.changes)
    if not check_only and not diff:
        click.echo(f"{len(outcome.changes)} reformatted, {unchanged} unchanged", err=True)
    failed = bool(outcome.diagnostics) or (check_only and bool(outcome.changes))
    sys.stdout.flush()
    raise click.exceptions.Exit(EXIT_FAIL if failed else EXIT_OK)
