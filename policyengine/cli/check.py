"""`policyengine check`: parse, resolve, type-check and validate; lint warnings."""

from __future__ import annotations

import sys

import click

from ..constants import EXIT_FAIL, EXIT_OK
from .common import load_host, paths_argument, plugin_options, print_diagnostics, style_for


@click.command()
@paths_argument
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True,
    help="Output form: text for people, json, sarif (2.1.0) or github (workflow annotations).",
)  # fmt: skip
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@plugin_options
def check(paths: tuple[str, ...], fmt: str, strict: bool, plugin: tuple[str, ...], trace_hooks: bool) -> None:
    """Check rule files and directories: every problem, with where and how to fix it.

    Exit status: 0 no errors (warnings allowed unless --strict), 1 errors.
    """
    from ..engine import Options, check_paths
    from ..formats.text import summary

    result = check_paths(paths, Options(plugins=load_host(plugin, trace_hooks)))
    print_diagnostics(result.diagnostics, result.workspace.texts, fmt)
    if fmt == "text":
        files = len(result.workspace.run_files)
        click.echo(summary(result.errors, result.warnings, files, len(result.rules), style_for(sys.stdout)))
    failed = result.errors or (strict and result.warnings)
    raise click.exceptions.Exit(EXIT_FAIL if failed else EXIT_OK)
