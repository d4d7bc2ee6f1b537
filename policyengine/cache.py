"""A content-addressed cache of `check` results, so that checking an unchanged tree is near-instant.

The key is a digest of everything the answer depends on: the bytes of every rule file of the
run, the engine itself (the stat of each of its source files, so an edited checkout never
gets a stale answer), botocore's version (the service model and the partitions), and the
plugins that would load (their names, versions and source files, found without importing
them). An entry also records the digest of every file the run imported; a hit is used only
when those files are unchanged too. A miss, a corrupt entry or an unwritable directory just
means the check runs; the cache is never trusted when its directory is writable by others.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .constants import ENV_CACHE_DIR, PROJECT
from .errors import Diagnostic
from .sources import inside

if TYPE_CHECKING:
    from .workspace import Workspace

FORMAT = 2  # bump when the pickled entry changes shape


@dataclass
class CheckAnswer:
    """What `check` prints: the diagnostics, the counts, and the texts of files with diagnostics."""

    diagnostics: list[Diagnostic]
    files: int
    rules: int
    texts: dict[str, str]
    depends: dict[str, str | None]  # see `dependencies`


def cache_dir() -> Path:
    """Where entries live: POLICYENGINE_CACHE_DIR, else $XDG_CACHE_HOME/policyengine or ~/.cache/policyengine."""
    base = os.environ.get(ENV_CACHE_DIR) or os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / PROJECT / "check"


def digest(data: bytes) -> str:
    """The content address of some bytes."""
    return hashlib.sha256(data).hexdigest()


def key(
    files: Mapping[str, bytes],
    plugins: Iterable[str],
    environ: Mapping[str, str] | None = None,
    roots: Iterable[str] = (),
) -> str:
    """The cache key of a run: its files' bytes, the engine, botocore, the plugins and the import roots."""
    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0{_engine()}\0{_botocore()}".encode())
    h.update("\0".join(roots).encode())
    h.update(_plugins(list(plugins), os.environ if environ is None else environ).encode())
    for path in sorted(files):
        h.update(f"\0{path}\0{digest(files[path])}".encode())
    return h.hexdigest()


OUTSIDE = "outside"  # a dependency refused as outside the roots (E212): valid while it stays outside


def dependencies(ws: Workspace) -> dict[str, str | None]:
    """Each file an answer read (its digest), import not read (None) or refused (``OUTSIDE``)."""
    depends: dict[str, str | None] = {path: digest(text.encode()) for path, text in ws.texts.items()}
    depends.update({path: None for path in ws.unreadable})
    depends.update({path: OUTSIDE for path in ws.outside})
    return depends


def load(entry_key: str, roots: Sequence[str] = (), run_files: Iterable[str] = ()) -> CheckAnswer | None:
    """The cached answer for a key, if there is one, it is readable, and what it imports is unchanged.

    An import is looked at only inside ``roots`` (nothing outside is opened): one that has moved
    outside (a symbolic link changed), or back inside, makes the answer stale.
    """
    directory = cache_dir()
    if not _trusted(directory):
        return None
    try:
        answer = pickle.loads((directory / f"{entry_key}.pickle").read_bytes())  # our own, trusted directory
    except Exception:  # missing, truncated, or from another layout: a miss
        return None
    if not isinstance(answer, CheckAnswer):
        return None
    named = set(run_files)  # their bytes are in the key: not read again
    for path, expected in answer.depends.items():
        if path in named:
            continue
        if expected == OUTSIDE:
            if inside(path, roots):
                return None
        elif not inside(path, roots) or text_digest(path) != expected:
            return None
    return answer


def text_digest(path: str) -> str | None:
    """The digest of a rule file's text as the engine reads it (None when it cannot be read)."""
    from .sources import Source, read

    source = read(path, path)
    return digest(source.text.encode()) if isinstance(source, Source) else None


def store(entry_key: str, answer: CheckAnswer) -> None:
    """Save an answer atomically; any failure only means no cache."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _trusted(directory):
            return
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".entry-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(answer, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / f"{entry_key}.pickle")
    except OSError:
        return


def _trusted(directory: Path) -> bool:
    """Only a directory of ours that nobody else can write into is read (pickles run code)."""
    try:
        info = directory.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _engine() -> str:
    """The engine's own sources, by path, size and modification time (cheap: no reading)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".lark"):
            info = path.stat()
            h.update(f"{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _botocore() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("botocore")
    except PackageNotFoundError:
        return "none"


def _plugins(extra: list[str], environ: Mapping[str, str]) -> str:
    """The plugins that would load, found without importing any of them."""
    from . import plugin_sources

    parts = []
    for ep in plugin_sources.allowed_entry_points(environ):
        version = ep.dist.version if ep.dist else ""
        parts.append(f"ep:{ep.name}={ep.value}@{version}:{_module_stamp(ep.module)}")
    for spec, _ in plugin_sources.named(environ, extra):
        if plugin_sources.is_file(spec):
            parts.append(f"file:{os.path.realpath(spec)}:{_stamp(spec)}")
        else:
            parts.append(f"module:{spec}:{_module_stamp(spec)}")
    return "\n".join(parts)


def _module_stamp(module: str) -> str:
    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return "missing"
    if spec is None or not spec.origin:
        return "missing"
    if spec.submodule_search_locations:  # a package: every source file in it
        root = Path(next(iter(spec.submodule_search_locations)))
        return digest("".join(f"{p}:{_stamp(str(p))}" for p in sorted(root.rglob("*.py"))).encode())
    return _stamp(spec.origin)


def _stamp(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    return f"{info.st_size}:{info.st_mtime_ns}"
