"""Hypothesis strategies that write rule files: valid ones, in varied layouts, and near-misses."""

from __future__ import annotations

from hypothesis import strategies as st

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
def near_misses(draw: st.DrawFn) -> str:
    """A valid file with a few characters deleted, doubled or replaced."""
    text = draw(rule_files())
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
