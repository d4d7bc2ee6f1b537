"""What several commands share: path arguments and printing diagnostics."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import click

from ..errors import Diagnostic
from ..formats.style import Style, use_colour

if TYPE_CHECKING:
    from ..plugins import PluginHost

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path())


def plugin_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--plugin MODULE_OR_FILE` (repeatable) and `--trace-hooks`."""
    command = click.option(
        "--trace-hooks",
        is_flag=True,
        help="Print every plugin hook call on stderr (or set POLICYENGINE_TRACE_HOOKS=1).",
    )(command)
    return click.option(
        "--plugin", "plugin", multiple=True, metavar="MODULE_OR_FILE",
        help="Load a plugin besides the installed ones (repeatable).",
    )(command)  # fmt: skip


def import_root_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--import-root DIR`: the tree `import` may read from (default: each path's repository)."""
    return click.option(
        "--import-root", type=click.Path(exists=True, file_okay=False), metavar="DIR",
        help="Let `import` read files below DIR (default: the git repository of each path, else the path's directory).",
    )(command)  # fmt: skip


def aws_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--region`, `--profile` and `--endpoint-url` (Image Builder only), as boto3 settings."""
    for option in reversed(
        [
            click.option("--region", help="The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)."),
            click.option("--profile", help="The AWS profile (default: AWS_PROFILE)."),
            click.option("--endpoint-url", help="The Image Builder endpoint (default: AWS_ENDPOINT_URL_IMAGEBUILDER)."),
        ]
    ):
        command = option(command)
    return command


def live_aws(region: str | None, profile: str | None, endpoint_url: str | None) -> Any:
    """AWS access for live reads and for sending, from the command's options."""
    from ..aws import Aws, AwsSettings

    return Aws(AwsSettings(region=region, profile=profile, endpoint_url=endpoint_url))


def load_host(plugin: tuple[str, ...], trace_hooks: bool) -> PluginHost:
    """Load the plugins for a command."""
    from ..plugins import load_plugins

    return load_plugins(plugin, trace=trace_hooks)


class FiniteRange(click.FloatRange):
    """A number in a range, and a number at all: `nan` passes a plain range check, since it compares false."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse and check the option's value."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


class TimestampParam(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """An RFC 3339 timestamp or a date, as rule files write them."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse the option's value."""
        if isinstance(value, datetime):
            return value
        from ..parser import parse_timestamp

        parsed, problem = parse_timestamp(str(value))
        if parsed is None:
            self.fail(f"{value!r}: {problem} (write 2027-01-01T00:00:00Z)", param, ctx)
        return parsed.astimezone(UTC)


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
