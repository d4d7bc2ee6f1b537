"""`let` bindings, imports and value evaluation: turning syntax values into typed values.

Each file has a scope: its own `let` bindings plus those defined in the files it imports
(their own bindings only). A value reached through a name reports problems at the place
of use, with a note pointing at the definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import Diagnostic, Note, Span, error
from .model import UNITS
from .suggest import did_you_mean
from .syntax import Bool, Duration, Import, Int, Let, ListValue, ParsedFile, Ref, Str, Timestamp, Value
from .workspace import Workspace

KIND_NAMES = {
    "string": "a string",
    "int": "a number",
    "duration": "a duration",
    "timestamp": "a timestamp",
    "bool": "true or false",
    "list": "a list",
}


@dataclass(slots=True)
class RV:
    """A typed value: ``value`` is str, int, (int, UNIT), aware datetime, bool or list[RV]."""

    kind: str
    value: Any
    span: Span  # where it is used: problems are reported here
    origin: Span | None = None  # the literal, when it was reached through a name

    def at(self, span: Span) -> RV:
        """The same value, used at ``span``."""
        return RV(self.kind, self.value, span, self.origin or self.span)

    def notes(self) -> tuple[Note, ...]:
        """A note pointing at the definition, when there is one."""
        return (Note(self.origin, "the value is defined here"),) if self.origin else ()

    def to_json(self) -> Any:
        """The JSON form given to plugins: a duration as {"value", "unit"}, a time in UTC."""
        if self.kind == "list":
            return [item.to_json() for item in self.value]
        if self.kind == "duration":
            return {"value": self.value[0], "unit": self.value[1]}
        if self.kind == "timestamp":
            return format_time(self.value)
        return self.value


def format_time(value: datetime) -> str:
    """A time in UTC with a `Z`, as the request and the JSON output write it."""
    utc = value.astimezone(UTC)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


@dataclass
class Scopes:
    """Every file's names, and the values they evaluate to (computed once, on demand)."""

    ws: Workspace
    diagnostics: list[Diagnostic]
    local: dict[str, dict[str, Let]] = field(default_factory=dict)
    imported: dict[str, dict[str, tuple[str, Let]]] = field(default_factory=dict)
    _values: dict[tuple[str, str], RV | None] = field(default_factory=dict)
    _active: list[tuple[str, str]] = field(default_factory=list)

    def build(self) -> None:
        """Collect the bindings of every file and report clashes."""
        for path, parsed in self.ws.files.items():
            self.local[path] = self._locals(parsed)
        for path, parsed in self.ws.files.items():
            self.imported[path] = self._imports(path, parsed)

    def _locals(self, parsed: ParsedFile) -> dict[str, Let]:
        names: dict[str, Let] = {}
        for item in parsed.items:
            if isinstance(item, Let):
                first = names.get(item.name.text)
                if first:
                    self.diagnostics.append(
                        error(
                            item.name.span,
                            "E202",
                            f"`{item.name.text}` is already bound in this file",
                            "rename one of the two bindings",
                            Note(first.name.span, "first bound here"),
                        )
                    )
                else:
                    names[item.name.text] = item
        return names

    def _imports(self, path: str, parsed: ParsedFile) -> dict[str, tuple[str, Let]]:
        names: dict[str, tuple[str, Let]] = {}
        via: dict[str, Import] = {}
        local = self.local[path]
        for index, item in enumerate(parsed.items):
            if not isinstance(item, Import):
                continue
            target = self.ws.imports.get((path, index))
            if target is None or target == path:  # a file importing itself is an import cycle (E206)
                continue
            for name, let in self.local.get(target, {}).items():
                if name in local:
                    self.diagnostics.append(
                        error(
                            local[name].name.span,
                            "E203",
                            f'`{name}` is also bound by `import "{item.path.value}"`',
                            "rename the local binding",
                            Note(let.name.span, "the imported binding"),
                        )
                    )
                elif name in names and names[name][0] != target:
                    self.diagnostics.append(
                        error(
                            item.path.span,
                            "E204",
                            f"`{name}` is bound by two imports",
                            "rename it in one of the imported files",
                            Note(via[name].path.span, "also imported here"),
                            Note(let.name.span, "bound here"),
                        )
                    )
                else:
                    names[name] = (target, let)
                    via[name] = item
        return names

    def names(self, path: str) -> list[str]:
        """Every name visible in a file."""
        return [*self.local.get(path, {}), *self.imported.get(path, {})]

    def lookup(self, path: str, ref: Ref) -> RV | None:
        """The value a name stands for, used at ``ref``; None (reported) when it has none."""
        let = self.local.get(path, {}).get(ref.name)
        home = path
        if let is None and ref.name in self.imported.get(path, {}):
            home, let = self.imported[path][ref.name]
        if let is None:
            self.diagnostics.append(
                error(
                    ref.span,
                    "E201",
                    f"`{ref.name}` is not defined",
                    did_you_mean(ref.name, self.names(path), "bind it with `let`, or import the file that does"),
                )
            )
            return None
        value = self.binding(home, let)
        return value.at(ref.span) if value else None

    def binding(self, path: str, let: Let) -> RV | None:
        """The value of a `let` binding, evaluated once."""
        key = (path, let.name.text)
        if key in self._values:
            return self._values[key]
        if key in self._active:
            cycle = [*self._active[self._active.index(key) :], key]
            self.diagnostics.append(
                error(
                    let.name.span,
                    "E209",
                    "these bindings refer to each other: " + " -> ".join(name for _, name in cycle),
                    "bind one of them to a literal value",
                )
            )
            self._values[key] = None
            return None
        self._active.append(key)
        try:
            value = self.evaluate(path, let.value)
        finally:
            self._active.pop()
        self._values[key] = value
        return value

    def evaluate_all(self) -> None:
        """Evaluate every binding of every file, so that unused ones are checked too."""
        for path, lets in self.local.items():
            for let in lets.values():
                self.binding(path, let)

    def evaluate(self, path: str, value: Value) -> RV | None:
        """A syntax value as a typed value; None when it has a problem (already reported)."""
        if isinstance(value, Str):
            return RV("string", value.value, value.span)
        if isinstance(value, Ref):
            return self.lookup(path, value)
        if isinstance(value, Int):
            return RV("int", value.value, value.span)
        if isinstance(value, Duration):
            unit = UNITS.get(value.unit.text)
            if unit is None:
                self.diagnostics.append(
                    error(
                        value.unit.span,
                        "E304",
                        f"unknown duration unit `{value.unit.text}`",
                        did_you_mean(value.unit.text, UNITS, "write days, weeks, months or years"),
                    )
                )
                return None
            return RV("duration", (value.value, unit), value.span)
        if isinstance(value, Timestamp):
            return RV("timestamp", value.value, value.span) if value.value else None
        if isinstance(value, Bool):
            return RV("bool", value.value, value.span)
        return self._list(path, value)

    def _list(self, path: str, value: ListValue) -> RV | None:
        if not value.items:
            self.diagnostics.append(
                error(
                    value.span, "E307", "a list cannot be empty", "give at least one value, or leave the statement out"
                )
            )
            return None
        items: list[RV] = []
        ok = True
        for node in value.items:
            item = self.evaluate(path, node)
            if item is None:
                ok = False
            elif item.kind == "list" and isinstance(node, Ref):
                items.extend(inner.at(node.span) for inner in item.value)  # a named list is spliced in
            elif item.kind == "list":
                self.diagnostics.append(
                    error(node.span, "E308", "a list cannot contain a list", "write the values in one flat list")
                )
                ok = False
            else:
                items.append(item)
        return RV("list", items, value.span) if ok else None


def expect(rv: RV, kinds: tuple[str, ...], what: str, diagnostics: list[Diagnostic], hint: str | None = None) -> bool:
    """Check that ``rv`` is of one of ``kinds``; report E301 if not."""
    if rv.kind in kinds:
        return True
    wanted = " or ".join(KIND_NAMES[k] for k in kinds)
    if hint is None and rv.kind == "int" and "string" in kinds:
        hint = "write it in double quotes"
    diagnostics.append(error(rv.span, "E301", f"{what} takes {wanted}, not {KIND_NAMES[rv.kind]}", hint, *rv.notes()))
    return False


def strings(rv: RV, what: str, diagnostics: list[Diagnostic], hint: str | None = None) -> list[RV] | None:
    """A string or a list of strings, as a list of string values; None (reported) otherwise."""
    items = rv.value if rv.kind == "list" else [rv]
    ok = all([expect(item, ("string",), what, diagnostics, hint) for item in items])
    return items if ok else None
