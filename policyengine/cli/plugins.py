"""`policyengine plugins`: the loaded plugins, their hooks, selectors and notifiers."""

from __future__ import annotations

import json

import click

from .common import load_host, plugin_options


@click.command("plugins")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output form."
)
@plugin_options
def plugins_command(fmt: str, plugin: tuple[str, ...], trace_hooks: bool) -> None:
    """List the loaded plugins: version, hooks implemented, selectors and notifiers added."""
    host = load_host(plugin, trace_hooks)
    if fmt == "json":
        click.echo(json.dumps({"plugins": [info.to_json() for info in host.infos]}, indent=2))
        return
    for info in host.infos:
        click.echo(f"{info.name} {info.version or '(no version)'}  [{info.source}]")
        click.echo(f"  hooks: {', '.join(info.hooks) or '-'}")
        if info.selectors:
            click.echo(f"  selectors: {', '.join(info.selectors)}")
        if info.notifiers:
            click.echo(f"  notifiers: {', '.join(info.notifiers)}")
