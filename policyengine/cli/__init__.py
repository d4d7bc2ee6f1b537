"""The command line: one group, one module per command, one error boundary."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from typing import NoReturn

import click

from .._version import __version__
from ..constants import EXIT_FAIL, EXIT_INTERNAL, EXIT_USAGE, ISSUES_URL, PROJECT
from ..errors import PolicyEngineError
from .apply import apply_command
from .check import check
from .compile import compile_command
from .fmt import fmt
from .plan import plan_command
from .plugins import plugins_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name=PROJECT, message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="Log what the engine does on stderr (repeat for more).")
def cli(verbose: int) -> None:
    """Policy-as-code for the lifecycle of EC2 Image Builder images."""
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format=f"{PROJECT}: %(message)s", stream=sys.stderr)


cli.add_command(apply_command)
cli.add_command(check)
cli.add_command(compile_command)
cli.add_command(fmt)
cli.add_command(plan_command)
cli.add_command(plugins_command)


def run() -> NoReturn:
    """The console script: a short-lived process, so no cyclic garbage collection and no teardown.

    The pipeline builds a large, acyclic heap; the cyclic collector's passes over it (and the
    final one at exit) cost more than the work itself on large rule sets (docs/benchmarks.md).
    """
    gc.disable()
    code = invoke()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run a command and exit with its status (used by tests and embedders)."""
    sys.exit(invoke(argv))


def invoke(argv: list[str] | None = None) -> int:
    """Run a command; turn every failure into a message and an exit code, which is returned."""
    try:
        code = cli.main(args=argv, prog_name=PROJECT, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = EXIT_USAGE if isinstance(exc, click.UsageError) else EXIT_FAIL
    except click.exceptions.Abort:  # click's form of Ctrl-C
        click.echo("interrupted", err=True)
        code = 130
    except PolicyEngineError as exc:
        diagnostics = getattr(exc, "diagnostics", None)
        if diagnostics:
            from .common import print_diagnostics

            print_diagnostics(diagnostics, {}, "text", err=True)
        else:
            click.echo(f"{PROJECT}: error: {exc}", err=True)
        code = EXIT_FAIL
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_FAIL
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    except Exception as exc:  # the one place that catches everything: a bug, said plainly
        click.echo(
            f"{PROJECT}: internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in {PROJECT} {__version__}, not in your rules. Please report it at {ISSUES_URL}\n"
            "with the command you ran (set POLICYENGINE_DEBUG=1 to include the Python stack).",
            err=True,
        )
        if os.environ.get("POLICYENGINE_DEBUG"):
            import traceback

            traceback.print_exc()
        code = EXIT_INTERNAL
    return code if isinstance(code, int) else 0
