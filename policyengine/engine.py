"""The pipeline end to end: files to parsed workspace to rules to checked requests."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .compiler import Compiled, compile_rules
from .errors import Diagnostic
from .model import Rule
from .resolve import resolve
from .sources import Source
from .workspace import Workspace, load, load_sources


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


def check_paths(paths: Iterable[str]) -> Result:
    """Parse, resolve, compile and validate the rule files that ``paths`` name."""
    with _collector_paused():
        return _finish(load(paths))


def check_sources(sources: Iterable[Source]) -> Result:
    """The same for texts in memory."""
    with _collector_paused():
        return _finish(load_sources(sources))


def _finish(ws: Workspace) -> Result:
    resolved = resolve(ws)
    compiled = compile_rules(resolved.rules, frozenset(resolved.broken))
    diagnostics = ws.all_diagnostics() + resolved.diagnostics + compiled.diagnostics
    diagnostics.sort(key=Diagnostic.sort_key)
    return Result(ws, resolved.rules, compiled, diagnostics)
