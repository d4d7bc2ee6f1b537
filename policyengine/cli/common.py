"""What several commands share: path arguments and printing diagnostics."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import IO

import click

from ..errors import Diagnostic
from ..formats.style import Style, use_colour

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path())


def style_for(stream: IO[str]) -> Style:
    """Colour when ``stream`` is a terminal."""
    return Style(use_colour(stream))


def print_diagnostics(
    diagnostics: Sequence[Diagnostic], texts: Mapping[str, str], fmt: str = "text", err: bool = False
) -> None:
    """Print diagnostics in one of the formats of `check`."""
    stream = sys.stderr if err else sys.stdout
    if fmt == "text":
        from ..formats.text import render

        if diagnostics:
            click.echo(render(diagnostics, texts, style_for(stream)), file=stream, nl=False)
        return
    from ..formats import machine

    writer = {"json": machine.to_json, "sarif": machine.to_sarif, "github": machine.to_github}[fmt]
    output = writer(diagnostics)
    if output:
        click.echo(output, file=stream)
