"""Where plugins come from, found without importing any: for loading them and for the check cache's key.

One place decides which entry points pass the allow and block lists and whether a name is a
file or a module, so that the cache describes exactly the plugins that would load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint

from .constants import ENV_PLUGINS, ENV_PLUGINS_ALLOW, ENV_PLUGINS_BLOCK, PROJECT


def names(env: Mapping[str, str], variable: str) -> list[str]:
    """The comma-separated names in an environment variable."""
    return [n.strip() for n in env.get(variable, "").split(",") if n.strip()]


def allowed_entry_points(env: Mapping[str, str]) -> list[EntryPoint]:
    """The entry points of the group, by name, less those blocked or not allowed (none imported)."""
    from importlib.metadata import entry_points

    allow, block = set(names(env, ENV_PLUGINS_ALLOW)), set(names(env, ENV_PLUGINS_BLOCK))
    found = sorted(entry_points(group=PROJECT), key=lambda e: e.name)
    return [ep for ep in found if ep.name not in block and (not allow or ep.name in allow)]


def named(env: Mapping[str, str], extra: list[str]) -> list[tuple[str, str]]:
    """The plugins named by POLICYENGINE_PLUGINS and then by `--plugin`, each once, with where it was named."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for spec, source in [*((s, ENV_PLUGINS) for s in names(env, ENV_PLUGINS)), *((s, "--plugin") for s in extra)]:
        key = os.path.realpath(spec) if is_file(spec) else spec
        if key not in seen:  # a plugin named twice is imported once
            seen.add(key)
            out.append((spec, source))
    return out


def is_file(spec: str) -> bool:
    """True when a plugin is named by a file (``x.py`` or a path), not by a module."""
    return spec.endswith(".py") or os.sep in spec or "/" in spec
