"""Finding and reading rule files: the file-system edge of the pipeline (codes E0xx)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from .constants import MAX_FILE_BYTES, RULE_SUFFIX
from .errors import Diagnostic, Span, error


@dataclass(frozen=True, slots=True)
class Source:
    """A rule file read into memory; ``path`` is the name shown to the user."""

    path: str
    text: str


def display_path(path: str) -> str:
    """The normalised, forward-slashed form of a path, as diagnostics show it."""
    return os.path.normpath(path).replace(os.sep, "/")


def discover(paths: Iterable[str]) -> tuple[list[str], list[Diagnostic]]:
    """The rule files that ``paths`` name: files as given, directories searched below.

    Directories yield every ``*.policy`` file below them in sorted path order, skipping
    hidden directories (``.git``, ``.venv``, ...). A file named twice is read once.
    """
    found: list[str] = []
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.append(display_path(path))

    for path in paths:
        shown = display_path(path)
        if os.path.isdir(path):
            files = sorted(_walk(path))
            if not files:
                diagnostics.append(
                    error(
                        Span.whole_file(shown),
                        "E005",
                        f"no `{RULE_SUFFIX}` files in directory `{shown}`",
                        f"rule files end in `{RULE_SUFFIX}`; name a directory that holds some",
                    )
                )
            for file in files:
                add(file)
        elif os.path.exists(path):
            add(path)
        else:
            diagnostics.append(
                error(Span.whole_file(shown), "E001", f"`{shown}` does not exist", "check the path for typos")
            )
    return found, diagnostics


def _walk(root: str) -> Iterable[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.endswith(RULE_SUFFIX) and not name.startswith("."):
                yield os.path.join(dirpath, name)


def read(path: str, shown: str | None = None) -> Source | Diagnostic:
    """Read one rule file as UTF-8 text, or say why it cannot be read."""
    shown = shown or display_path(path)
    where = Span.whole_file(shown)
    try:
        if os.path.isdir(path):
            return error(
                where,
                "E002",
                f"`{shown}` is a directory, not a rule file",
                f"name a `{RULE_SUFFIX}` file, or give the directory to the command itself",
            )
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return error(where, "E002", f"`{shown}` is not a regular file", f"name a `{RULE_SUFFIX}` file")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            return error(
                where,
                "E004",
                f"`{shown}` is {size:,} bytes; rule files may be at most {MAX_FILE_BYTES:,}",
                "split the rules into several files",
            )
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return error(where, "E001", f"`{shown}` does not exist", "check the path for typos")
    except ValueError:  # a NUL character, which no file system takes
        message = f"`{shown}` cannot be read: a path cannot contain a NUL character"
        return error(where, "E002", message, "check the path")
    except OSError as exc:
        return error(
            where,
            "E002",
            f"`{shown}` cannot be read: {exc.strerror or exc}",
            "check that the file exists and is readable",
        )
    return decode(data, shown)


def decode(data: bytes, shown: str) -> Source | Diagnostic:
    """Decode a file's bytes as UTF-8 (a leading byte-order mark is dropped)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        return error(
            Span(shown, line, column, line, column + 1), "E003",
            f"`{shown}` is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} {exc.reason}",
            "save the file as UTF-8",
        )  # fmt: skip
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return error(
            Span(shown, line, 1, line, 1),
            "E003",
            f"`{shown}` contains a NUL byte: it is not a text file",
            f"name only `{RULE_SUFFIX}` text files",
        )
    return Source(shown, text)


def read_paths(paths: Iterable[str]) -> tuple[list[Source], list[Diagnostic]]:
    """Discover the rule files ``paths`` name and read each: the sources, and every problem."""
    files, diagnostics = discover(paths)
    found: list[Source] = []
    for path in files:
        source = read(path, path)
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
        else:
            found.append(source)
    return found, diagnostics


def import_roots(paths: Iterable[str], import_root: str | None = None) -> list[str]:
    """The directories imports may read below: ``import_root``, else each path's repository.

    A path's repository is the top of the git work tree that holds it (the nearest directory
    above with a ``.git``), else the directory named (a file's own directory). Real paths, so a
    symbolic link cannot lead an import outside.
    """
    if import_root is not None:
        return [os.path.realpath(import_root)]
    roots: list[str] = []
    for path in paths:
        start = os.path.realpath(path)
        if not os.path.isdir(start):
            start = os.path.dirname(start)
        root = _work_tree(start) or start
        if root not in roots:
            roots.append(root)
    return roots


def _work_tree(directory: str) -> str | None:
    current = directory
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def inside(path: str, roots: Iterable[str]) -> bool:
    """True when ``path`` (resolved through symbolic links) lies below one of ``roots``."""
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
