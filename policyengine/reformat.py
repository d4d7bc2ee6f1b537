"""`fmt` on files: format, verify that nothing but layout changed, write atomically."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from .errors import Diagnostic, PolicyEngineError
from .formatter import format_file
from .parser import parse
from .sources import Source, read_paths
from .syntax import ParsedFile


@dataclass
class Change:
    """A file whose canonical form differs from its text."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """A unified diff from the file to its canonical form."""
        return "".join(
            difflib.unified_diff(
                _lines(self.before),
                _lines(self.after),
                fromfile=self.path if os.path.isabs(self.path) else f"a/{self.path}",
                tofile=self.path if os.path.isabs(self.path) else f"b/{self.path}",
            )
        )


def _lines(text: str) -> list[str]:
    """The lines of a text with their ends: only a line feed ends a line (not a carriage return or U+2028)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


@dataclass
class Outcome:
    """What `fmt` did or would do."""

    files: int = 0
    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


def canonical(source: Source) -> tuple[str | None, ParsedFile]:
    """The canonical text of a source, or None when it has syntax errors."""
    parsed = parse(source.text, source.path)
    if not parsed.ok:
        return None, parsed
    formatted = format_file(parsed, source.text)
    again = parse(formatted, source.path)
    if not again.ok or shape(again) != shape(parsed):
        raise PolicyEngineError(
            f"internal error: formatting {source.path} would change its meaning; the file was left as it is."
            " Please report this with the file."
        )
    return formatted, parsed


def shape(node: Any) -> Any:
    """A node without its positions: what formatting must preserve (comments by text and order)."""
    if isinstance(node, list):
        return [shape(n) for n in node]
    if is_dataclass(node) and not isinstance(node, type):
        if type(node).__name__ == "Span":
            return None
        skip = {"span", "diagnostics", "broken", *(("path",) if isinstance(node, ParsedFile) else ())}
        return (type(node).__name__, *(shape(getattr(node, f.name)) for f in fields(node) if f.name not in skip))
    return node


def format_paths(paths: Iterable[str], write: bool) -> Outcome:
    """Format every rule file ``paths`` name; write the changed ones when ``write``."""
    sources, diagnostics = read_paths(paths)
    outcome = Outcome(files=len(sources), diagnostics=diagnostics)
    for source in sources:
        formatted, parsed = canonical(source)
        if formatted is None:
            outcome.texts[source.path] = source.text
            outcome.diagnostics.extend(parsed.diagnostics)
        elif formatted != source.text:
            outcome.changes.append(Change(source.path, source.text, formatted))
            if write:
                write_atomically(source.path, formatted)
    return outcome


def write_atomically(path: str, text: str) -> None:
    """Replace a file's contents in one step: a crash leaves the old or the new file, never half."""
    try:
        _replace(path, text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyEngineError(f"cannot write `{path}`: {reason}; the file was left as it was") from None


def _replace(path: str, text: str) -> None:
    directory = os.path.dirname(path) or "."
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=".policyengine-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
