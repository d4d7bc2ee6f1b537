"""Hypothesis strategies that write rule files: valid ones, in varied layouts, files generated
from the grammar, and near-misses of either."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache

from hypothesis import strategies as st

from policyengine.keywords import ALL_KEYWORDS

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
ACCOUNTS = ["111122223333", "444455556666", "123456789012", "999988887777"]
UNITS = ["day", "days", "week", "weeks", "month", "months", "year", "years"]

seps = st.sampled_from([" ", "  ", "\n", "\n  ", "\n\n", " # note\n", "\t"])
ends = st.sampled_from(["", ";", " ;", " # end\n"])


@st.composite
def arns(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    name = draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))
    version = ".".join(str(draw(st.integers(0, 12))) for _ in range(3))
    return f"arn:aws:imagebuilder:{region}:123456789012:image/{name}/{version}/{draw(st.integers(1, 40))}"


def quoted(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


@st.composite
def criteria(draw: st.DrawFn) -> list[str]:
    pool = [
        st.just("public"),
        st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3).map(lambda r: "region in " + quoted(r)),
        st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=3).map(lambda a: "shared with " + quoted(a)),
        st.tuples(st.sampled_from(["env", "keep", "status", '"team name"', "owner"]),
                  st.sampled_from(["prod", "true", "", "x y"])).map(lambda kv: f'tag {kv[0]} = "{kv[1]}"'),
    ]  # fmt: skip
    out = draw(st.lists(st.one_of(pool), min_size=1, max_size=4))
    if draw(st.booleans()):
        out.append(f"launched within {draw(st.integers(1, 365))} {draw(st.sampled_from(UNITS))}")
    keys: set[str] = set()
    unique = []
    for c in out:  # one value per tag key
        if c.startswith("tag "):
            key = c.split("=")[0]
            if key in keys:
                continue
            keys.add(key)
        unique.append(c)
    return unique


@st.composite
def rules(draw: st.DrawFn, index: int) -> str:
    status = draw(st.sampled_from(["available", "deprecated", "disabled", "deleted"]))
    statements = []
    targets = draw(st.lists(arns(), min_size=1, max_size=3, unique=True))
    if len(targets) == 1 and draw(st.booleans()):
        statements.append(f'target "{targets[0]}"')
    else:
        statements.append("target " + quoted(targets))
    if draw(st.booleans()):
        statements.append('select images(name: "app-*", older_than: 30 days, keep_latest: 2)')
    statements.append(f"status {status}")
    include = draw(st.booleans()) or status == "deleted"
    if include:
        resources = ["amis"]
        if status == "deleted":
            resources += draw(st.lists(st.sampled_from(["snapshots", "containers"]), unique=True))
        statements.append("include " + ", ".join(resources))
        statements.append('role "arn:aws:iam::123456789012:role/Lifecycle"')
        if draw(st.booleans()):
            statements.append("exclude amis when " + draw(seps).join(c + " or" for c in draw(criteria()))[:-3])
    if status == "deprecated" and draw(st.booleans()):
        statements.append(f"at 2027-0{draw(st.integers(1, 9))}-15T10:00:00+02:00")
    if draw(st.booleans()):
        statements.append(f'description "rule {index} \\u00e9"')
    statements = draw(st.permutations(statements))
    body = "".join(draw(seps) + s + draw(ends) for s in statements)
    return f'rule "rule-{index}" {{{body}{draw(seps)}}}'


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 4))
    parts = [draw(rules(i)) for i in range(count)]
    if draw(st.booleans()):
        parts.insert(0, 'let accounts = ["111122223333"]  # shared')
    return "\n".join(parts) + draw(st.sampled_from(["", "\n", "\n# trailing comment\n"]))


@st.composite
def near_misses(draw: st.DrawFn, base: st.SearchStrategy[str] | None = None) -> str:
    """A file from ``base`` (default: a valid one) with a few characters deleted, doubled or replaced."""
    text = draw(base if base is not None else rule_files())
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["delete", "double", "replace"]))
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "double":
            text = text[:i] + text[i] + text[i:]
        else:
            text = text[:i] + draw(st.sampled_from(list('{}[]()",;:=#\\\n ab1-'))) + text[i + 1 :]
    return text


# --------------------------------------------------------------------------- from the grammar

# Names and strings that mean something to the resolver, so that generated files reach past
# "undefined name" now and then: the names that generated `let`s bind, the built-in selector
# and notifiers, and values of the right shape for each statement.
NAMES = ["a", "b", "accounts", "images", "log", "file", "webhook", "x_1"]
STRINGS = [
    "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1",
    "arn:aws:imagebuilder:eu-west-1:123456789012:image/golden-al2023/2.3.4/7",
    "arn:aws:iam::123456789012:role/Lifecycle", "LifecycleRole", "rule-1", "rule-2",
    "us-east-1", "eu-west-1", "us-eest-1", "111122223333", "12345", "", "aws:x", "common.policy",
]  # fmt: skip
SPACES = [" ", "\n", "\t", "  ", "\r\n", "\f", "\n\n", " # note\n", "\r"]


def _then(token: st.SearchStrategy[str], gap: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A token and what follows it before the next one."""
    return st.tuples(token, gap).map("".join)


@st.composite
def _valid_timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    zone = draw(st.sampled_from(["", "Z", "z", "+02:00", "-05:30", "-00:00", "+23:59"]))
    if not zone:
        return date
    time = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    if draw(st.booleans()):
        time += f".{moment.microsecond:06d}"[: draw(st.integers(2, 10))]
    return date + draw(st.sampled_from("Tt")) + time + zone


def _timestamps() -> st.SearchStrategy[str]:
    loose = st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt][0-9:.]{0,12}(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?", fullmatch=True
    )  # the grammar's own pattern: mostly invalid times (E305)
    return st.one_of(_valid_timestamps(), loose)


def _json_strings(value: str) -> st.SearchStrategy[str]:
    """``value`` as a JSON string: with escapes for everything but ASCII, or only where needed."""
    return st.sampled_from([json.dumps(value), json.dumps(value, ensure_ascii=False)])


@lru_cache(maxsize=1)
def _grammar_strategy() -> st.SearchStrategy[str]:
    from hypothesis.extra.lark import from_lark

    from policyengine.parser import bare_parser

    grammar = bare_parser()
    terminals, _, ignored = grammar.grammar.compile(grammar.options.start, ())
    after_word = st.sampled_from(SPACES)  # `let` and `x` need a gap, or they lex as `letx`
    after_mark = st.sampled_from(["", *SPACES])
    explicit: dict[str, st.SearchStrategy[str]] = {}
    for t in terminals:  # keywords and punctuation, as written
        if t.pattern.type == "str":
            explicit[t.name] = _then(st.just(t.pattern.value), after_word if t.pattern.value.isalpha() else after_mark)
    name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True).filter(lambda n: n not in ALL_KEYWORDS)
    text = st.text(st.characters(codec="utf-8"), max_size=30)
    number = st.one_of(st.integers(0, 400).map(str), st.from_regex(r"0*[0-9]{1,80}", fullmatch=True))
    explicit |= {
        "NAME": _then(st.one_of(st.sampled_from(NAMES), name), after_word),
        "STRING": _then(st.one_of(st.sampled_from(STRINGS), text).flatmap(_json_strings), after_mark),
        "INT": _then(number, after_word),
        "TIMESTAMP": _then(_timestamps(), after_word),
        "WS": st.sampled_from([s for s in SPACES if not s.lstrip().startswith("#")]),
        "COMMENT": text.map(lambda s: "#" + s.replace("\n", " ") + "\n"),
    }
    assert {t.name for t in terminals} | set(ignored) <= set(explicit)
    return from_lark(grammar, explicit=explicit)


def grammar_files() -> st.SearchStrategy[str]:
    """Files generated from the grammar itself: syntactically valid, mostly meaningless.

    Every terminal has an explicit strategy that ends with what separates it from the next
    token (from_lark joins tokens with nothing between them, and `letx` is one name).
    Strings are valid JSON strings and names are never keywords, so the files parse without
    syntax errors; timestamps are partly drawn from the grammar's loose pattern (E305).
    """
    return st.deferred(lambda: _grammar_strategy())


# --------------------------------------------------------------------------- near-misses

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z0-9_][A-Za-z0-9_:.+-]*|\s+|.')
_VOCABULARY = sorted(ALL_KEYWORDS) + list('{}[]()",;:=#') + ["-1", "0", "2027-02-30", "\\", "'x'", "\u00a0"]


@st.composite
def token_misses(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A file from ``base`` with a few tokens deleted, duplicated, swapped or replaced."""
    tokens = _TOKEN.findall(draw(base))
    for _ in range(draw(st.integers(1, 3))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "borrow"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i] + draw(st.sampled_from(["", " "])))
        elif op == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif op == "replace":
            tokens[i] = draw(st.sampled_from(_VOCABULARY))
        else:  # another token of the same file
            tokens[i] = tokens[draw(st.integers(0, len(tokens) - 1))]
    return "".join(tokens)


def misses(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Near-misses of ``base`` at the level of characters or of tokens."""
    return st.one_of(near_misses(base), token_misses(base))
