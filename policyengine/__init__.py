"""policyengine: policy-as-code for the lifecycle of EC2 Image Builder images.

The public API, in the style of the json module::

    import policyengine
    result = policyengine.load(["rules/"])     # every problem, every rule, every request
    requests = policyengine.compile(["rules/"])  # the requests, or RuleErrors
    result = policyengine.loads('rule "a" { ... }')

Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import Diagnostic, PolicyEngineError, Problem, Refuse

if TYPE_CHECKING:
    from .engine import Result
    from .hookspecs import hookimpl

__all__ = [
    "Diagnostic",
    "PolicyEngineError",
    "Problem",
    "Refuse",
    "RuleErrors",
    "__version__",
    "compile",
    "hookimpl",
    "load",
    "loads",
]


def __getattr__(name: str) -> Any:
    """``policyengine.hookimpl``, imported on first use (pluggy is not needed to read rules)."""
    if name == "hookimpl":
        from .hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RuleErrors(PolicyEngineError):
    """The rules have errors; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0] if errors else None
        where = f": {first.span.file}:{first.span.line}:{first.span.column}: {first.message}" if first else ""
        super().__init__(f"{len(errors)} error(s) in the rules{where}")


def load(paths: Iterable[str], plugins: bool = True, import_root: str | None = None) -> Result:
    """Check the rule files and directories ``paths`` name: the result holds rules, requests, diagnostics.

    With ``plugins`` (the default) the installed plugins are loaded as the command line does,
    so unknown selectors and plugins' `check_rule` problems are reported; without, only the
    language itself is checked. Imports read files below ``import_root`` only (default: the
    git repository of each path, else the path's directory).
    """
    from .engine import check_paths

    options = _options(plugins)
    options.import_root = import_root
    return check_paths(paths, options)


def loads(text: str, name: str = "<string>.policy", plugins: bool = True, import_root: str | None = None) -> Result:
    """Check rule text held in memory; see ``load``.

    Imports are read relative to ``name``, and only below ``import_root`` (default: the git
    repository of ``name``'s directory, else that directory; for the default name, the current one).
    """
    from .engine import check_sources
    from .sources import Source, import_roots

    return check_sources([Source(name, text)], _options(plugins), import_roots([name], import_root))


def _options(plugins: bool) -> Any:
    from .engine import Options

    if not plugins:
        return Options()
    from .plugins import load_plugins

    return Options(plugins=load_plugins())


def compile(paths: Iterable[str], plugins: bool = True, import_root: str | None = None) -> list[dict[str, Any]]:
    """The `StartResourceStateUpdate` requests the rules compile to, in the boto3 shape.

    Raises ``RuleErrors`` when the rules have errors (plugins' problems included, see ``load``).
    """
    result = load(paths, plugins, import_root)
    if not result.ok:
        raise RuleErrors(result.diagnostics)
    return [r.request for r in result.compiled.requests]
