"""The pipeline end to end: files to parsed workspace to rules to checked requests."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .compiler import Compiled, compile_rules
from .errors import Diagnostic
from .inventory import Image
from .model import Rule
from .plugin_checks import check_calls, check_rules_with_plugins
from .plugins import PluginHost
from .resolve import resolve
from .selection import SelectorContext, charge_selected, resolve_selectors
from .sources import Source
from .workspace import Workspace, load, load_sources


@dataclass
class Options:
    """How to run the pipeline: the plugins, and what selectors resolve against."""

    plugins: PluginHost | None = None  # None: no plugin checks, selectors stay unresolved
    images: Sequence[Image] | None = None  # with plugins: resolve selectors against these images
    now: datetime | None = None  # the evaluation time (default: the current time)
    aws: Any = None  # AWS access for selectors that list live
    import_root: str | None = None  # imports read below this directory (default: each path's repository)


@dataclass
class Result:
    """Everything a run of the front end found: rules, requests, diagnostics."""

    workspace: Workspace
    rules: list[Rule] = field(default_factory=list)
    compiled: Compiled = field(default_factory=lambda: Compiled([], [], []))
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """How many errors."""
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        """How many warnings."""
        return len(self.diagnostics) - self.errors

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.errors == 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the pipeline builds a large heap with no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_paths(paths: Iterable[str], options: Options | None = None) -> Result:
    """Parse, resolve, compile and validate the rule files that ``paths`` name."""
    with _collector_paused():
        options = options or Options()
        return _finish(load(paths, options.import_root), options)


def check_sources(sources: Iterable[Source], options: Options | None = None, roots: list[str] | None = None) -> Result:
    """The same for texts in memory; imports read below ``roots`` (default: the sources' repositories)."""
    with _collector_paused():
        return _finish(load_sources(sources, roots), options or Options())


def _finish(ws: Workspace, options: Options) -> Result:
    resolved = resolve(ws)
    diagnostics = ws.all_diagnostics() + resolved.diagnostics
    rules = resolved.rules
    selected = None
    host = options.plugins
    if host is not None:
        usable = [r for r in rules if r.name not in resolved.broken]
        diagnostics += check_calls(usable, host)
        if options.images is not None:
            now = (options.now or datetime.now(UTC)).astimezone(UTC)
            context = SelectorContext(now, options.images, options.aws)
            selected, problems = resolve_selectors(usable, host, context)
            diagnostics += problems + charge_selected(usable, selected, resolved.spent, resolved.broken)
        diagnostics += check_rules_with_plugins(usable, host, selected)
    compiled = compile_rules(rules, frozenset(resolved.broken), selected)  # broken: over budget too
    diagnostics += compiled.diagnostics
    diagnostics.sort(key=Diagnostic.sort_key)
    return Result(ws, rules, compiled, diagnostics)
