"""`policyengine check`: parse, resolve, type-check and validate; lint warnings."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..constants import EXIT_FAIL, EXIT_OK

if TYPE_CHECKING:
    from ..cache import CheckAnswer
from .common import import_root_option, load_host, paths_argument, plugin_options, print_diagnostics, style_for


@click.command()
@paths_argument
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True,
    help="Output form: text for people, json, sarif (2.1.0) or github (workflow annotations).",
)  # fmt: skip
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--no-cache", is_flag=True, help="Check from scratch, without reading or writing the cache.")
@import_root_option
@plugin_options
def check(
    paths: tuple[str, ...],
    fmt: str,
    strict: bool,
    no_cache: bool,
    import_root: str | None,
    plugin: tuple[str, ...],
    trace_hooks: bool,
) -> None:
    """Check rule files and directories: every problem, with where and how to fix it.

    An unchanged tree is answered from a content-addressed cache (docs/cli.md).
    Exit status: 0 no errors (warnings allowed unless --strict), 1 errors.
    """
    from ..formats.text import summary

    answer = _answer(paths, plugin, trace_hooks, import_root, use_cache=not no_cache and not trace_hooks)
    print_diagnostics(answer.diagnostics, answer.texts, fmt)
    errors = sum(1 for d in answer.diagnostics if d.is_error)
    warnings = len(answer.diagnostics) - errors
    if fmt == "text":
        click.echo(summary(errors, warnings, answer.files, answer.rules, style_for(sys.stdout)))
    failed = errors or (strict and warnings)
    raise click.exceptions.Exit(EXIT_FAIL if failed else EXIT_OK)


def _answer(
    paths: tuple[str, ...], plugin: tuple[str, ...], trace_hooks: bool, import_root: str | None, use_cache: bool
) -> CheckAnswer:
    """The check's answer: from the cache when every input is unchanged, else computed (and saved)."""
    from .. import cache
    from ..sources import Source, discover, import_roots, read

    files, problems = discover(paths)
    read_once = [read(path, path) for path in files] if use_cache and not problems else []
    sources = [s for s in read_once if isinstance(s, Source)]
    usable = use_cache and not problems and len(sources) == len(read_once)  # else no cache: check reports why
    roots = import_roots(paths, import_root)
    entry = cache.key({s.path: s.text.encode() for s in sources}, plugin, roots=roots) if usable else None
    if entry is not None:
        hit = cache.load(entry, roots, files)
        if hit is not None:
            return hit
    from ..engine import Options, check_paths, check_sources  # the whole pipeline: not needed for a hit

    options = Options(plugins=load_host(plugin, trace_hooks), import_root=import_root)
    result = check_sources(sources, options, roots) if usable else check_paths(paths, options)  # nothing read twice
    shown = {d.span.file for d in result.diagnostics} | {n.span.file for d in result.diagnostics for n in d.notes}
    answer = cache.CheckAnswer(
        diagnostics=result.diagnostics,
        files=len(result.workspace.run_files),
        rules=len(result.rules),
        texts={path: text for path, text in result.workspace.texts.items() if path in shown},
        depends=cache.dependencies(result.workspace),
    )
    if entry is not None and set(result.workspace.run_files) == set(files):
        cache.store(entry, answer)
    return answer
