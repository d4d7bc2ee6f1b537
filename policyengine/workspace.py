"""Loading a run's rule files and everything they import, parsed, into one workspace."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import Diagnostic, error
from .parser import parse
from .sources import Source, display_path, import_roots, inside, read, read_paths
from .syntax import Import, ParsedFile


@dataclass
class Workspace:
    """The parsed files of a run.

    ``run_files`` are the files named on the command line (their rules are compiled);
    ``files`` also holds the files they import. ``imports`` maps each import statement
    (by file and item index) to the file it names, or None when that could not be read.
    """

    run_files: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # real paths imports may read below
    outside: set[str] = field(default_factory=set)  # imports refused: outside the roots (E212), never opened
    unreadable: dict[str, str] = field(default_factory=dict)  # imports that could not be read, and why (E205)
    files: dict[str, ParsedFile] = field(default_factory=dict)
    imports: dict[tuple[str, int], str | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # for code frames in messages

    def all_diagnostics(self) -> list[Diagnostic]:
        """File and syntax diagnostics of every file."""
        out = list(self.diagnostics)
        for parsed in self.files.values():
            out.extend(parsed.diagnostics)
        return out


def import_target(importer: str, path: str) -> str:
    """The path an ``import`` names: relative to the importing file's directory."""
    return display_path(os.path.join(os.path.dirname(importer), path))


def load(paths: Iterable[str], import_root: str | None = None) -> Workspace:
    """Discover, read and parse the files that ``paths`` name, and what they import."""
    paths = list(paths)
    sources, diagnostics = read_paths(paths)
    ws = load_sources(sources, import_roots(paths, import_root))
    ws.diagnostics[:0] = diagnostics
    return ws


def load_sources(sources: Iterable[Source], roots: list[str] | None = None) -> Workspace:
    """A workspace from texts in memory (imports are read from disk relative to them).

    Imports may read only below ``roots`` (default: the repositories of the sources' files).
    """
    sources = list(sources)
    ws = Workspace(roots=roots if roots is not None else import_roots(s.path for s in sources))
    for source in sources:
        ws.run_files.append(source.path)
        ws.texts[source.path] = source.text
        ws.files[source.path] = parse(source.text, source.path)
    _follow_imports(ws)
    return ws


def _follow_imports(ws: Workspace) -> None:
    pending = list(ws.files)
    failed = ws.unreadable
    while pending:
        path = pending.pop()
        for index, item in enumerate(ws.files[path].items):
            if not isinstance(item, Import):
                continue
            target = import_target(path, item.path.value)
            if target not in ws.files and not inside(target, ws.roots):
                ws.imports[(path, index)] = None
                ws.outside.add(target)
                ws.diagnostics.append(_outside(item, target, ws.roots))
                continue
            if target not in ws.files and target not in failed:
                source = read(target, target)
                if isinstance(source, Diagnostic):
                    failed[target] = source.message
                    if source.code in ("E003", "E004"):  # the file exists: report its own problem there
                        ws.diagnostics.append(source)
                else:
                    ws.texts[target] = source.text
                    ws.files[target] = parse(source.text, target)
                    pending.append(target)
            if target in ws.files:
                ws.imports[(path, index)] = target
            else:
                ws.imports[(path, index)] = None
                ws.diagnostics.append(
                    error(
                        item.path.span,
                        "E205",
                        f"cannot import `{item.path.value}`: {failed[target]}",
                        f"the path is relative to this file's directory, so it names `{target}`",
                    )
                )


def _shown(directory: str) -> str:
    """A directory as the user would write it: relative when it holds or lies below the current one."""
    here = os.path.realpath(os.getcwd())
    related = inside(here, [directory]) or inside(directory, [here])
    return display_path(os.path.relpath(directory, here)) if related else display_path(directory)


def _outside(item: Import, target: str, roots: list[str]) -> Diagnostic:
    where = " or ".join(f"`{_shown(root)}`" for root in roots)
    return error(
        item.path.span,
        "E212",
        f"cannot import `{item.path.value}`: `{target}` is outside the repository of this run ({where})",
        "move the file into the repository, or allow a wider tree with `--import-root DIR`",
    )
