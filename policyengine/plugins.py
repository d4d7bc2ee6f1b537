"""Finding, loading and validating plugins, and the registries of selectors and notifiers.

Plugins come from, in this order: the built-in modules of ``DEFAULT_PLUGINS``, installed
distributions' entry points in the group ``policyengine``, the modules or files named in
``POLICYENGINE_PLUGINS`` (comma-separated), and ``--plugin``. Loading happens when a
command asks for it, never at import. A plugin that fails to load, registers something
invalid, or fails in a hook stops the run with an error that names it: the run never goes
on without it. Whatever a plugin raises (even ``SystemExit``) is caught and named; only a
real Ctrl-C goes through.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs, plugin_sources
from .constants import ENV_TRACE_HOOKS, PROJECT
from .errors import PolicyEngineError
from .keywords import ALL_KEYWORDS

DEFAULT_PLUGINS: tuple[str, ...] = (
    "policyengine.default_plugins.images",
    "policyengine.default_plugins.notifiers",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PluginError(PolicyEngineError):
    """A plugin could not be loaded or did something invalid; ``plugin`` names it."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.plugin = plugin
        self.reason = reason
        super().__init__(f"plugin `{plugin}`: {reason}")


@contextmanager
def shielded(plugin: str, what: str) -> Iterator[None]:
    """Turn anything a plugin raises into a ``PluginError`` that names it (Ctrl-C excepted)."""
    try:
        yield
    except KeyboardInterrupt:
        raise
    except PluginError as exc:
        if exc.plugin == plugin:
            raise
        raise PluginError(plugin, f"{what} failed: {exc}") from exc
    except BaseException as exc:  # a plugin's SystemExit must not end the run as a success
        raise PluginError(plugin, f"{what} failed: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Registered:
    """A selector or notifier, the plugin that registered it, and its argument model."""

    kind: str
    name: str
    function: Callable[..., Any]
    plugin: str
    model: Any = None  # a pydantic model class, or None


@dataclass
class PluginInfo:
    """What `policyengine plugins` shows about one plugin."""

    name: str
    source: str
    version: str | None
    hooks: list[str] = field(default_factory=list)
    selectors: list[str] = field(default_factory=list)
    notifiers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The shape of `plugins --format json`."""
        return {
            "name": self.name,
            "source": self.source,
            "version": self.version,
            "hooks": self.hooks,
            "selectors": self.selectors,
            "notifiers": self.notifiers,
        }


class PluginHost:
    """The loaded plugins, their hooks, and what they registered."""

    def __init__(self, manager: pluggy.PluginManager, infos: list[PluginInfo]) -> None:
        self.manager = manager
        self.infos = infos
        self.selectors: dict[str, Registered] = {}
        self.notifiers: dict[str, Registered] = {}
        self._callers: dict[tuple[str, str], Any] = {}

    @property
    def hook(self) -> Any:
        """The hook caller (always call with keyword arguments)."""
        return self.manager.hook

    def implementers(self, hook: str) -> list[str]:
        """The names of the plugins that implement ``hook``, built-ins first, then in load order."""
        return [impl.plugin_name for impl in getattr(self.manager.hook, hook).get_hookimpls()]

    def call_one(self, hook: str, plugin: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook``; whatever it raises names the plugin."""
        caller = self._callers.get((hook, plugin))
        if caller is None:
            others = [self.manager.get_plugin(n) for n in self.implementers(hook) if n != plugin]
            caller = self._callers[(hook, plugin)] = self.manager.subset_hook_caller(hook, remove_plugins=others)
        with shielded(plugin, f"hook `{hook}`"):
            result = caller(**kwargs)
        return result[0] if isinstance(result, list) and result else None


def _switched_on(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def load_plugins(
    extra: Iterable[str] = (), environ: Mapping[str, str] | None = None, trace: bool = False
) -> PluginHost:
    """Load every plugin (see the module docstring) and collect their selectors and notifiers."""
    env = os.environ if environ is None else environ
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    if trace or _switched_on(env.get(ENV_TRACE_HOOKS)):
        manager.trace.root.setwriter(sys.stderr.write)
        manager.enable_tracing()
    infos: list[PluginInfo] = []
    for module_name in DEFAULT_PLUGINS:
        _register(manager, infos, importlib.import_module(module_name), module_name, "built-in", None)
    _load_entry_points(manager, infos, env)
    for spec, source in plugin_sources.named(env, list(extra)):
        _register(manager, infos, *_import(spec), source, None)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(manager.get_name(exc.plugin) or repr(exc.plugin), str(exc)) from exc
    host = PluginHost(manager, infos)
    _collect(host, "selector", "register_selectors", host.selectors)
    _collect(host, "notifier", "register_notifiers", host.notifiers)
    return host


def _load_entry_points(manager: pluggy.PluginManager, infos: list[PluginInfo], env: Mapping[str, str]) -> None:
    for ep in plugin_sources.allowed_entry_points(env):
        with shielded(ep.name, f"loading `{ep.value}`"):
            module = ep.load()
        version = ep.dist.version if ep.dist else None
        source = f"entry point of {ep.dist.name}" if ep.dist else "entry point"
        _register(manager, infos, module, ep.name, source, version)


def _import(spec: str) -> tuple[ModuleType, str]:
    """Import a plugin named by module or by ``.py`` file; return it and its name."""
    if not spec:
        raise PluginError(spec, "an empty name is not a module or a file")
    if not plugin_sources.is_file(spec):
        with shielded(spec, "importing it"):
            return importlib.import_module(spec), spec
    path = Path(spec)
    if path.is_dir():
        raise PluginError(spec, "is a directory; name a .py file or an importable module")
    if not path.is_file():
        raise PluginError(spec, "no such file")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"policyengine_plugin_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}_{digest}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise PluginError(spec, "cannot be imported")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        with shielded(spec, "importing it"):
            loader_spec.loader.exec_module(module)
    except PluginError:
        del sys.modules[module_name]
        raise
    return module, spec


def _register(
    manager: pluggy.PluginManager,
    infos: list[PluginInfo],
    module: ModuleType,
    name: str,
    source: str,
    version: str | None,
) -> None:
    if manager.is_registered(module) or manager.get_plugin(name) is not None:
        return
    try:
        manager.register(module, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(name, str(exc)) from exc
    if version is None:
        version = getattr(module, "__version__", None)
        if version is None and source == "built-in":
            from ._version import __version__

            version = __version__
    hooks = sorted(caller.name for caller in manager.get_hookcallers(module) or [])
    infos.append(PluginInfo(name, source, version, hooks))


def _collect(host: PluginHost, kind: str, hook: str, registry: dict[str, Registered]) -> None:
    """Call a contribution hook plugin by plugin, each with a `register` bound to that plugin."""
    info_by_name = {info.name: info for info in host.infos}
    for plugin in host.implementers(hook):
        register, close = _registrar(kind, plugin, registry, info_by_name.get(plugin))
        try:
            host.call_one(hook, plugin, register=register)
        finally:
            close()


def _registrar(
    kind: str, plugin: str, registry: dict[str, Registered], info: PluginInfo | None
) -> tuple[Callable[..., None], Callable[[], None]]:
    """A `register` callback for one plugin, and a function that closes it after the hook."""
    open_ = [True]

    def register(name: str, function: Callable[..., Any], model: Any = None, /) -> None:
        if not open_[0]:
            raise PluginError(plugin, f"registered the {kind} {name!r} after start-up; register in the hook only")
        _validate_registration(kind, name, function, model, plugin)
        if name in registry:
            other = registry[name].plugin
            raise PluginError(plugin, f"registers the {kind} `{name}`, which plugin `{other}` registered already")
        registry[name] = Registered(kind, name, function, plugin, model)
        if info is not None:
            (info.selectors if kind == "selector" else info.notifiers).append(name)

    def close() -> None:
        open_[0] = False

    return register, close


def _validate_registration(kind: str, name: object, function: object, model: object, plugin: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in ALL_KEYWORDS:
        raise PluginError(
            plugin, f"registers a {kind} named {name!r}, which a rule cannot name (use letters, digits and `_`)"
        )
    if not callable(function):
        raise PluginError(plugin, f"registers the {kind} `{name}` with {function!r}, which is not callable")
    if model is not None:
        from pydantic import BaseModel

        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginError(
                plugin, f"registers the {kind} `{name}` with an argument model that is not a pydantic model"
            )
