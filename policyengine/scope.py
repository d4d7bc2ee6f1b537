"""`let` bindings, imports and value evaluation: turning syntax values into typed values.

Each file has a scope: its own `let` bindings plus those defined in the files it imports
(their own bindings only). A value reached through a name reports problems at the place
of use, with a note pointing at the definition.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .constants import MAX_LIST_ITEMS, MAX_NESTING, MAX_RUN_VALUES, MAX_SUGGESTION_WORK
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
    _active: dict[tuple[str, str], int] = field(default_factory=dict)  # being evaluated: place on the path
    _path: list[str] = field(default_factory=list)  # the names being evaluated, in order
    spent: int = 0  # of the run's budget of values (MAX_RUN_VALUES)
    compared: int = 0  # names compared for did-you-mean hints (MAX_SUGGESTION_WORK)
    _stopped: bool = False

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
        seen: set[str] = set()  # a file imported again brings nothing new (and would cost its names again)
        for index, item in enumerate(parsed.items):
            if not isinstance(item, Import):
                continue
            target = self.ws.imports.get((path, index))
            if target is None or target == path or target in seen:  # importing itself is a cycle (E206)
                continue
            seen.add(target)
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

    def find(self, path: str, name: str) -> tuple[str, Let] | None:
        """The binding a name stands for in a file, with the file that defines it."""
        let = self.local.get(path, {}).get(name)
        if let is not None:
            return path, let
        return self.imported.get(path, {}).get(name)

    def lookup(self, path: str, ref: Ref) -> RV | None:
        """The value a name stands for, used at ``ref``; None (reported) when it has none."""
        found = self.find(path, ref.name)
        if found is None:
            # Each suggestion compares the name with every visible one: bounded, so that many
            # undefined names among many bindings do not take hours.
            hint = "bind it with `let`, or import the file that does"
            self.compared += len(self.local.get(path, {})) + len(self.imported.get(path, {}))
            if self.compared <= MAX_SUGGESTION_WORK:
                hint = did_you_mean(ref.name, self.names(path), hint) or hint
            self.diagnostics.append(error(ref.span, "E201", f"`{ref.name}` is not defined", hint))
            return None
        value = self.binding(*found)
        if value is None or (value.kind == "list" and not self.spend(len(value.value), ref.span)):
            return None
        return value.at(ref.span)

    def spend(self, count: int, span: Span) -> bool:
        """Take ``count`` values from the run's budget; False once it is spent (E319, reported once).

        A name costs a few bytes but may stand for 10,000 values, and every use copies them:
        without a budget, a small file could make the run take hours and gigabytes.
        """
        if not self._stopped and self.spent + count <= MAX_RUN_VALUES:
            self.spent += count
            return True
        if not self._stopped:
            self._stopped = True
            self.diagnostics.append(
                error(
                    span,
                    "E319",
                    f"the rules of this run add up to more than {MAX_RUN_VALUES:,} values;"
                    " from here on, rules and the names bound to lists are not checked",
                    "every use of a name bound to a list counts its items, and every rule what it multiplies"
                    " (its exclusions, for each target): split the rules over several runs",
                )
            )
        return False

    def binding(self, path: str, let: Let) -> RV | None:
        """The value of a `let` binding, evaluated once."""
        key = (path, let.name.text)
        if key not in self._values:
            self._evaluate_binding(key, let)
        return self._values[key]

    def _evaluate_binding(self, key: tuple[str, str], let: Let) -> None:
        """Evaluate a binding after the bindings it names, depth first, on a stack of its own.

        Recursion would end a chain of 100,000 bindings, each naming the next, in a
        RecursionError; here each binding is evaluated once the names in it have values.
        """
        stack: list[tuple[tuple[str, str], Let, Iterator[tuple[str, Let]]]] = []

        def enter(key: tuple[str, str], let: Let) -> None:
            self._active[key] = len(self._path)
            self._path.append(key[1])
            stack.append((key, let, self._names_in(key[0], let.value)))

        enter(key, let)
        while stack:
            key, let, names = stack[-1]
            for home, dep in names:
                dep_key = (home, dep.name.text)
                if dep_key in self._values:
                    continue
                if dep_key in self._active:
                    self._cycle(dep_key, dep)
                    continue
                enter(dep_key, dep)
                break
            else:
                stack.pop()
                self._values[key] = self.evaluate(key[0], let.value)  # every name in it has its value
                del self._active[key]
                self._path.pop()

    def _names_in(self, path: str, value: Value) -> Iterator[tuple[str, Let]]:
        """The bindings that evaluating ``value`` looks up (undefined names are left to it)."""
        for node in value.items if isinstance(value, ListValue) else (value,):
            found = self.find(path, node.name) if isinstance(node, Ref) else None
            if found is not None:
                yield found

    def _cycle(self, key: tuple[str, str], let: Let) -> None:
        self.diagnostics.append(
            error(
                let.name.span,
                "E209",
                "these bindings refer to each other: " + cycle(self._path, self._active[key], key[1]),
                "bind one of them to a literal value",
            )
        )
        self._values[key] = None

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
        if value.depth > MAX_NESTING:  # the parser reported it (E109) and cut what lies deeper
            return None
        if not value.items:
            self.diagnostics.append(
                error(
                    value.span, "E307", "a list cannot be empty", "give at least one value, or leave the statement out"
                )
            )
            return None
        items: list[RV] = []
        ok = True
        size = 0  # the length once spliced: counted before anything is copied
        named = False
        for node in value.items:
            if isinstance(node, ListValue):  # reported as it stands, without evaluating what is inside
                self.diagnostics.append(
                    error(node.span, "E308", "a list cannot contain a list", "write the values in one flat list")
                )
                ok = False
                continue
            item = self.evaluate(path, node)
            if item is None:
                ok = False
                continue
            spliced = item.kind == "list"  # a name bound to a list: its items are spliced in
            size += len(item.value) if spliced else 1
            named = named or spliced
            if not ok or size > MAX_LIST_ITEMS:
                ok = False
            elif spliced:
                items.extend(inner.at(node.span) for inner in item.value)
            else:
                items.append(item)
        if size > MAX_LIST_ITEMS:
            self.diagnostics.append(
                error(
                    value.span,
                    "E318",
                    f"this list has {size:,} items" + (" once the named lists in it are spliced in" if named else "")
                    + f"; a list may have at most {MAX_LIST_ITEMS:,}",
                    "no request takes that many values: split them over several rules, and check"
                    " for a list that is spliced in more than once",
                )
            )
        return RV("list", items, value.span) if ok else None


def cycle(path: Sequence[str], start: int, closing: str, keep: int = 5) -> str:
    """``a -> b -> a``: the names on ``path`` from ``start``, then ``closing``; a long middle is left out.

    Built from slices, so that reporting each of many cycles on a long path stays cheap.
    """
    length = len(path) - start + 1
    if length <= 2 * keep + 2:
        return " -> ".join([*path[start:], closing])
    middle = f"... ({length - 2 * keep} more)"
    return " -> ".join([*path[start : start + keep], middle, *path[len(path) - keep + 1 :], closing])


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
