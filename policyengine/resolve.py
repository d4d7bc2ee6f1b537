"""Syntax tree to rule model: statements interpreted, names resolved, defaults applied.

A pure stage: it takes the parsed workspace and returns rules and diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .constants import REQUEST_VALUES
from .errors import Diagnostic, Note, Span, error, warning
from .model import RESOURCES, Call, Exclusions, Include, LastLaunched, Rule, Status, Target, Text, Time
from .scope import RV, Scopes, cycle, expect, strings
from .suggest import did_you_mean, one_of
from .syntax import (
    CallStatement,
    Criterion,
    Defaults,
    ExcludeStatement,
    IncludeStatement,
    Ref,
    RuleDecl,
    Statement,
    StatusStatement,
    ValueStatement,
)
from .workspace import Workspace

RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SINGLE = ("description", "owner", "status", "include", "role", "at", "token")
DEFAULTS_ALLOWED = ("role", "include", "exclude", "notify", "owner")
STATUS_WORDS = tuple(s.value for s in Status)


@dataclass
class Resolved:
    """What the resolver found: the rules of the run's files, and every problem."""

    rules: list[Rule]
    diagnostics: list[Diagnostic]
    broken: set[str] = field(default_factory=set)  # rules with syntax errors inside
    spent: int = 0  # of the run's budget of values (E319); selected targets are charged later


@dataclass
class _Block:
    """The settings of one `rule` or `defaults` block, before defaults are applied."""

    values: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, Span] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    by_arn: dict[str, Target] = field(default_factory=dict)  # the targets, to find a repeated one at once
    named_targets: int = 0  # the targets reached through a name (E319)
    selectors: list[Call] = field(default_factory=list)
    criteria: list[tuple[str, Any, Span]] = field(default_factory=list)
    exclude_spans: list[Span] = field(default_factory=list)
    notify: list[Call] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # settings whose value had an error


def resolve(ws: Workspace) -> Resolved:
    """Resolve every rule of the run's files."""
    diagnostics: list[Diagnostic] = []
    scopes = Scopes(ws, diagnostics)
    scopes.build()
    _check_import_cycles(ws, diagnostics)
    scopes.evaluate_all()
    rules: list[Rule] = []
    names: dict[str, Span] = {}
    broken: set[str] = set()
    for path in ws.run_files:
        parsed = ws.files[path]
        reader = _Reader(path, scopes, diagnostics)
        defaults = _defaults(parsed.items, reader, diagnostics)
        base = _merge_exclusions(Exclusions(), defaults.criteria, defaults.exclude_spans, diagnostics)
        base_size = len(base.public) + len(base.regions) + len(base.shared_accounts) + len(base.tags)
        for item in parsed.items:
            if not isinstance(item, RuleDecl):
                continue
            name = item.name.value
            if not RULE_NAME.fullmatch(name):
                diagnostics.append(
                    error(
                        item.name.span,
                        "E306",
                        f"invalid rule name {item.name.raw}",
                        "a rule name starts with a letter or digit and has at most 128 letters, digits,"
                        " `.`, `_` and `-`",
                    )
                )
            elif name in names:
                diagnostics.append(
                    error(
                        item.name.span,
                        "E207",
                        f"a rule named `{name}` already exists",
                        "rule names are unique across every file of a run",
                        Note(names[name], "first defined here"),
                    )
                )
                continue
            names[name] = item.name.span
            if item.broken:
                broken.add(name)
            block = _Block()
            for statement in item.statements:
                reader.statement(statement, block, in_defaults=False)
            # What the rule multiplies (E319), charged before the exclusions are merged and copied:
            # every request carries the exclusions, which are also checked once on their own, and a
            # target reached through a name makes a request that the file did not pay for in bytes.
            exclusions = base_size + len(block.criteria)
            cost = len(block.targets) * exclusions + exclusions + block.named_targets * REQUEST_VALUES
            if not scopes.spend(cost, item.name.span):
                continue
            rule = _rule(item, block, defaults, base, diagnostics)
            if rule is not None:
                rules.append(rule)
    return Resolved(rules, diagnostics, broken, scopes.spent)


def _check_import_cycles(ws: Workspace, diagnostics: list[Diagnostic]) -> None:
    """Report each import that closes a cycle (E206), by a depth-first walk on a stack of its own.

    Recursion would end an import chain of a thousand files in a RecursionError.
    """
    graph: dict[str, list[tuple[int, str]]] = {}
    for (path, index), target in ws.imports.items():
        if target is not None:
            graph.setdefault(path, []).append((index, target))
    done: set[str] = set()
    chain: dict[str, int] = {}  # the files on the walk's current path, with their place on it
    files: list[str] = []  # that path, in order
    frames: list[tuple[str, Iterator[tuple[int, str]]]] = []

    def enter(path: str) -> None:
        chain[path] = len(files)
        files.append(path)
        frames.append((path, iter(sorted(graph.get(path, [])))))

    for root in sorted(graph):
        if root in done:
            continue
        enter(root)
        while frames:
            path, edges = frames[-1]
            for index, target in edges:
                if target in chain:
                    diagnostics.append(
                        error(
                            ws.files[path].items[index].span,
                            "E206",
                            "import cycle: " + cycle(files, chain[target], target),
                            "move the shared `let` bindings into a file that imports nothing",
                        )
                    )
                elif target not in done:
                    enter(target)
                    break
            else:
                frames.pop()
                files.pop()
                del chain[path]
                done.add(path)


def _defaults(items: list[Any], reader: _Reader, diagnostics: list[Diagnostic]) -> _Block:
    block = _Block()
    first: Defaults | None = None
    for item in items:
        if not isinstance(item, Defaults):
            continue
        if first is not None:
            diagnostics.append(
                error(
                    _keyword_span(item.span, "defaults"),
                    "E208",
                    "a file may have only one `defaults` block",
                    "merge the two blocks into one",
                    Note(first.span, "the first one"),
                )
            )
            continue
        first = item
        for statement in item.statements:
            reader.statement(statement, block, in_defaults=True)
    return block


class _Reader:
    """Interprets the statements of one file's blocks."""

    def __init__(self, path: str, scopes: Scopes, diagnostics: list[Diagnostic]) -> None:
        self.path, self.scopes, self.diagnostics = path, scopes, diagnostics

    def value(self, statement: ValueStatement) -> RV | None:
        return self.scopes.evaluate(self.path, statement.value)

    def statement(self, st: Statement, block: _Block, in_defaults: bool) -> None:
        keyword = st.keyword.text
        if in_defaults and keyword not in DEFAULTS_ALLOWED:
            self.diagnostics.append(
                error(
                    st.keyword.span,
                    "E411",
                    f"`{keyword}` cannot be set in `defaults`",
                    f"defaults may set {one_of(DEFAULTS_ALLOWED)}; set `{keyword}` in each rule",
                )
            )
            return
        if keyword in SINGLE:
            if keyword in block.seen:
                self.diagnostics.append(
                    error(
                        st.keyword.span,
                        "E403",
                        f"`{keyword}` is given twice",
                        "keep one of them",
                        Note(block.seen[keyword], "first given here"),
                    )
                )
                return
            block.seen[keyword] = st.span
        if isinstance(st, StatusStatement):
            self._status(st, block)
        elif isinstance(st, IncludeStatement):
            self._include(st, block)
        elif isinstance(st, ExcludeStatement):
            self._exclude(st, block)
        elif isinstance(st, CallStatement):
            call = self._call(st)
            if call is not None:
                (block.selectors if keyword == "select" else block.notify).append(call)
        else:
            self._value_statement(keyword, st, block)

    def _value_statement(self, keyword: str, st: ValueStatement, block: _Block) -> None:
        rv = self.value(st)
        if rv is None:
            block.invalid.add(keyword)
            return
        if keyword == "target":
            items = strings(rv, "`target`", self.diagnostics)
            for item in items or ():
                duplicate = block.by_arn.get(item.value)
                if duplicate:
                    self.diagnostics.append(
                        warning(
                            item.span,
                            "W003",
                            f"`{item.value}` is already a target of this rule",
                            "remove the repeated target",
                            Note(duplicate.span, "first listed here"),
                        )
                    )
                    continue
                block.by_arn[item.value] = Target(arn=item.value, span=item.span, origin=item.origin)
                block.targets.append(block.by_arn[item.value])
                block.named_targets += isinstance(st.value, Ref) or item.origin is not None
        elif keyword == "at":
            if expect(rv, ("timestamp",), "`at`", self.diagnostics, "write a time such as 2027-01-01T00:00:00Z"):
                block.values["at"] = Time(value=rv.value, span=rv.span)
            else:
                block.invalid.add(keyword)
        elif not expect(rv, ("string",), f"`{keyword}`", self.diagnostics):
            block.invalid.add(keyword)
        else:
            if keyword == "description":
                block.values[keyword] = rv.value
            else:
                block.values[keyword] = Text(value=rv.value, span=rv.span, origin=rv.origin)

    def _status(self, st: StatusStatement, block: _Block) -> None:
        word = st.status.text
        if word not in STATUS_WORDS:
            block.invalid.add("status")
            self.diagnostics.append(
                error(
                    st.status.span,
                    "E302",
                    f"unknown status `{word}`",
                    did_you_mean(word, STATUS_WORDS, f"a status is {one_of(STATUS_WORDS)}"),
                )
            )
            return
        block.values["status"] = (Status(word), st.status.span)

    def _include(self, st: IncludeStatement, block: _Block) -> None:
        named: dict[str, bool] = {}
        for word in st.resources:
            if word.text in RESOURCES:
                named[word.text] = True
            else:
                block.invalid.add("include")
                self.diagnostics.append(
                    error(
                        word.span,
                        "E303",
                        f"unknown resource kind `{word.text}`",
                        did_you_mean(word.text, RESOURCES, f"include takes {one_of(RESOURCES)}"),
                    )
                )
        block.values["include"] = Include(span=st.span, **named)

    def _exclude(self, st: ExcludeStatement, block: _Block) -> None:
        resource = st.resource.text
        if resource != "amis":
            hint: str | None
            if resource in RESOURCES:
                message, hint = (
                    f"`{resource}` cannot be excluded",
                    "Image Builder's exclusion rules apply to AMIs only: write `exclude amis when ...`"
                    " (the snapshots of an excluded AMI are kept with it)",
                )
            else:
                message, hint = (
                    f"unknown resource kind `{resource}`",
                    did_you_mean(resource, ["amis"], "write `exclude amis when ...`"),
                )
            self.diagnostics.append(error(st.resource.span, "E412" if resource in RESOURCES else "E303", message, hint))
        for joiner in st.joiners:
            if joiner.text == "and":
                self.diagnostics.append(
                    error(
                        joiner.span,
                        "E404",
                        "exclusion criteria are joined with `or`, never `and`",
                        "Image Builder keeps an AMI that meets ANY criterion; write `or`, or narrow the rule's "
                        "targets instead",
                    )
                )
        block.exclude_spans.append(st.span)
        for criterion in st.criteria:
            self._criterion(criterion, block)

    def _criterion(self, c: Criterion, block: _Block) -> None:
        if c.kind == "not":
            self.diagnostics.append(
                error(
                    c.span,
                    "E405",
                    "an exclusion criterion cannot be negated",
                    "Image Builder has no `not`: exclude what must stay instead, or narrow the rule's targets",
                )
            )
            return
        if c.kind == "public":
            block.criteria.append(("public", None, c.span))
            return
        if c.kind == "tag":
            assert c.key is not None and c.value is not None
            key = c.key.value if hasattr(c.key, "value") else c.key.text  # a string or a bare word
            rv = self.scopes.evaluate(self.path, c.value)
            if rv is not None and expect(rv, ("string",), f"the value of tag `{key}`", self.diagnostics):
                # The whole criterion: problems with the key and with the value are both reported there.
                block.criteria.append(("tag", (key, Text(value=rv.value, span=c.span, origin=rv.origin)), c.span))
            return
        assert c.value is not None
        rv = self.scopes.evaluate(self.path, c.value)
        if rv is None:
            return
        if c.kind == "launched":
            if expect(rv, ("duration",), "`launched within`", self.diagnostics, "write a duration such as 6 months"):
                value, unit = rv.value
                block.criteria.append(("launched", LastLaunched(value=value, unit=unit, span=c.span), c.span))
            return
        what = "`region in`" if c.kind == "region" else "`shared with`"
        example = '["eu-west-1"]' if c.kind == "region" else '["111122223333"]'
        if not expect(rv, ("list",), what, self.diagnostics, f"write a list, such as {example}"):
            return
        hint = 'write account ids as strings, such as "111122223333"' if c.kind == "shared" else None
        for item in strings(rv, what, self.diagnostics, hint) or ():
            block.criteria.append((c.kind, Text(value=item.value, span=item.span, origin=item.origin), c.span))

    def _call(self, st: CallStatement) -> Call | None:
        args: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        ok = True
        for arg in st.arguments or ():
            name = arg.name.text
            if name in args or name in spans:
                self.diagnostics.append(
                    error(
                        arg.name.span,
                        "E413",
                        f"argument `{name}` is given twice",
                        "keep one of them",
                        Note(spans[name], "first given here"),
                    )
                )
                continue
            spans[name] = arg.span
            rv = self.scopes.evaluate(self.path, arg.value)
            if rv is None:
                ok = False
                continue
            args[name] = rv.to_json()
        if not ok:
            return None
        return Call(name=st.name.text, args=args, span=st.span, name_span=st.name.span, arg_spans=spans)


def _merge_exclusions(
    base: Exclusions, criteria: list[tuple[str, Any, Span]], spans: list[Span], diagnostics: list[Diagnostic]
) -> Exclusions:
    """Add criteria to ``base`` (the defaults' exclusions): union, with conflicts reported."""
    public = list(base.public)
    regions = list(base.regions)
    shared = list(base.shared_accounts)
    last = base.last_launched
    tags = dict(base.tags)
    for kind, data, span in criteria:
        if kind == "public":
            public.append(span)
        elif kind == "region":
            regions.append(data)
        elif kind == "shared":
            shared.append(data)
        elif kind == "launched":
            if last is None:
                last = data
            elif (last.value, last.unit) != (data.value, data.unit):
                diagnostics.append(
                    error(
                        span,
                        "E310",
                        f"a second, different `launched within` window ({data.value} {data.unit.lower()}"
                        f" after {last.value} {last.unit.lower()})",
                        "Image Builder takes one last-launched window per request: keep one",
                        Note(last.span, "the other window"),
                    )
                )
        else:
            key, text = data
            if key in tags and tags[key].value != text.value:
                diagnostics.append(
                    error(
                        span,
                        "E309",
                        f'tag `{key}` is given two values ("{tags[key].value}" and "{text.value}")',
                        "an AMI tag key can be matched against one value only; keep one",
                        Note(tags[key].span, "the other value"),
                    )
                )
            elif key not in tags:
                tags[key] = text
    return Exclusions(
        public=public,
        regions=regions,
        shared_accounts=shared,
        last_launched=last,
        tags=tags,
        spans=[*base.spans, *spans],
    )


def _rule(
    item: RuleDecl, block: _Block, defaults: _Block, base: Exclusions, diagnostics: list[Diagnostic]
) -> Rule | None:
    values = {**{k: v for k, v in defaults.values.items() if k in DEFAULTS_ALLOWED}, **block.values}
    exclusions = _merge_exclusions(base, block.criteria, block.exclude_spans, diagnostics)
    status = values.get("status")
    if status is None and "status" not in block.seen and not item.broken:
        diagnostics.append(
            error(
                item.name.span,
                "E401",
                f"rule `{item.name.value}` has no `status`",
                f"add `status` with {one_of(STATUS_WORDS)}",
            )
        )
    if not block.targets and not block.selectors and not item.broken and not _has_target_statement(item):
        diagnostics.append(
            error(
                item.name.span,
                "E402",
                f"rule `{item.name.value}` has no `target` or `select`",
                'add `target "arn:aws:imagebuilder:..."` or `select images(...)`',
            )
        )
    notify: list[Call] = []
    for call in [*defaults.notify, *block.notify]:
        if not any(c.name == call.name and c.args == call.args for c in notify):
            notify.append(call)
    return Rule(
        name=item.name.value,
        file=item.span.file,
        span=item.span,
        name_span=item.name.span,
        description=values.get("description"),
        owner=values.get("owner"),
        targets=block.targets,
        selectors=block.selectors,
        status=status[0] if status else None,
        status_span=status[1] if status else None,
        include=values.get("include"),
        exclusions=None if exclusions.empty else exclusions,
        role=values.get("role"),
        at=values.get("at"),
        token=values.get("token"),
        notify=notify,
        invalid=sorted(block.invalid | (defaults.invalid & set(DEFAULTS_ALLOWED))),
    )


def _has_target_statement(item: RuleDecl) -> bool:
    return any(getattr(s, "keyword", None) and s.keyword.text in ("target", "select") for s in item.statements)


def _keyword_span(span: Span, keyword: str) -> Span:
    """The span of the keyword that starts a block (not the whole block)."""
    return Span(span.file, span.line, span.column, span.line, span.column + len(keyword))
