"""Fuzzing, and the bounds on input: every input ends in diagnostics (exit 1) or success (exit 0).

Three sources of input: files generated from the grammar itself (and near-misses of them),
the example and golden files mutated byte by byte and run through the real command line,
and inputs built to exhaust time, memory or the stack, one per bound (docs/language.md,
"Files and directories"). The budget of the generated tests follows the Hypothesis profile:
small for `make test`, large for `make fuzz` (HYPOTHESIS_PROFILE=fuzz).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import policyengine
from policyengine.constants import MAX_FILE_BYTES, MAX_LIST_ITEMS, MAX_NESTING, MAX_RUN_VALUES
from policyengine.engine import Result, check_sources
from policyengine.parser import parse
from policyengine.reformat import canonical
from policyengine.sources import Source, decode

from .conftest import ROOT, Run
from .strategies import grammar_files, misses, rule_files

pytestmark = pytest.mark.fuzz

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/{}"


# The loaded profile's budget as it is (100 examples a test for `make test`, 5,000 for `make
# fuzz`): every test here fits in it. The CLI tests reuse the `run` fixture across examples,
# which is safe: it only captures output and sets the same environment each time.
PROFILE = settings(
    settings(), suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail, instead of hanging, when the block runs longer than ``seconds`` (generous: a hang is hours)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def checked(text: str, name: str = "fuzz.policy") -> Result:
    """Check a text; every diagnostic must be the project's own, with a place."""
    result = check_sources([Source(name, text)])
    for d in result.diagnostics:
        assert d.code and d.message and d.span.line >= 1 and d.span.column >= 1, d
    return result


def codes(result: Result) -> list[str]:
    return [d.code for d in result.diagnostics]


def formats_back(text: str) -> None:
    """A file that parses formats to a file that parses to the same tree, and formats to itself."""
    formatted, parsed = canonical(Source("fuzz.policy", text))  # raises when the tree would change
    if formatted is None:
        assert not parsed.ok
        return
    again, _ = canonical(Source("fuzz.policy", formatted))
    assert again == formatted


# --------------------------------------------------------------------------- from the grammar


@PROFILE
@given(grammar_files())
@example('let a = 1 rule "r" { exclude amis when not not public }')
@example("let a = " + "[" * MAX_NESTING + "1" + "]" * MAX_NESTING)
@example("defaults #\n{ # note\n}")  # fmt joined two comments into one: `{  # # note`
@example('import\n#0\n"x"#\n')  # fmt put the comment after "x" before the one above it
@example('import "\\u0000"')  # an internal error: a path with a NUL character reached the file system
def test_grammar_files_parse_cleanly_and_end_in_diagnostics(text: str) -> None:
    parsed = parse(text, "fuzz.policy")
    assert not [d for d in parsed.diagnostics if d.code.startswith("E1")], parsed.diagnostics
    checked(text)
    formats_back(text)


@PROFILE
@given(st.one_of(misses(grammar_files()), misses(rule_files())))
def test_near_misses_end_in_diagnostics(text: str) -> None:
    checked(text)
    formats_back(text)


# --------------------------------------------------------------------------- mutated files, through the CLI

SEEDS = sorted((ROOT / "rules").glob("*.policy")) + sorted((ROOT / "tests" / "golden" / "cases").glob("*.policy"))
SEEDS += sorted((ROOT / "tests" / "diagnostics").glob("E*.policy"))[::4]
SEED_BYTES = [path.read_bytes() for path in SEEDS]
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80", b"\xe2\x82"]
LONG = [b"a" * 100_000, b'"' + b"x" * 100_000 + b'"', b"[" * 5_000, b"not " * 5_000, b'"\\n' * 20_000, b"# " * 50_000]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One change to ``data``, at the level of bytes."""
    i = draw(st.integers(0, len(data)))
    j = min(len(data), i + draw(st.integers(1, 64)))
    op = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "splice", "utf8", "nul", "cr", "bom", "long"]))
    if op == "flip" and i < len(data):
        return data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
    if op == "delete":
        return data[:i] + data[j:]
    if op == "insert":
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    if op == "duplicate":
        return data[:j] + data[i:j] * draw(st.integers(1, 3)) + data[j:]
    if op == "splice":
        other = draw(st.sampled_from(SEED_BYTES))
        k = draw(st.integers(0, len(other)))
        return data[:i] + other[k:] if draw(st.booleans()) else data[:i] + other[k : k + 200] + data[i:]
    if op == "utf8":
        return data[:i] + draw(st.sampled_from(INVALID_UTF8)) + data[i:]
    if op == "nul":
        return data[:i] + b"\x00" + data[i:]
    if op == "cr":
        return data.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r"])), draw(st.sampled_from([1, -1])))
    if op == "bom":
        return b"\xef\xbb\xbf" + data if draw(st.booleans()) else data[:i] + b"\xef\xbb\xbf" + data[i:]
    return data[:i] + draw(st.sampled_from(LONG)) + data[i:]


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEED_BYTES))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(mutation(data))
    return data


def no_crash(result: Run) -> None:
    output = result.out + result.err
    assert result.code in (0, 1), output[-2000:]
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]


FORMATS = st.sampled_from(["text", "json", "sarif", "github"])


@PROFILE
@given(data=mutated_files(), output=FORMATS)
def test_mutated_files_through_the_cli(data: bytes, output: str, run: Callable[..., Run]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS[:4]:  # rules/: what the examples import
            (Path(tmp) / seed.name).write_bytes(seed.read_bytes())
        path = Path(tmp) / "fuzz.policy"
        path.write_bytes(data)
        no_crash(run("check", "--format", output, str(path)))
        no_crash(run("fmt", "--check", str(path)))
        no_crash(run("fmt", "--diff", str(path)))
        formatted = run("fmt", str(path))
        no_crash(formatted)
        after = path.read_bytes()
        if after != data:  # fmt wrote the file: it must parse, and be in canonical form
            text = after.decode("utf-8")
            assert formatted.code == 0 and parse(text, "fuzz.policy").ok
            assert run("fmt", "--check", str(path)).code == 0
        source = decode(data, str(path))
        if isinstance(source, Source):
            result = policyengine.loads(source.text, name=str(path), plugins=False)
            assert all(d.code for d in result.diagnostics)


@PROFILE
@given(text=st.one_of(grammar_files(), misses(grammar_files()), rule_files()))
def test_generated_files_compile_and_plan(text: str, tmp_path_factory: pytest.TempPathFactory,
                                          run: Callable[..., Run]) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("plan") / "fuzz.policy"
    path.write_text(text, encoding="utf-8")
    no_crash(run("compile", str(path)))
    inventory = str(ROOT / "rules" / "inventory.json")
    plan = ("plan", "--inventory", inventory, "--now", "2026-12-04T00:00:00Z", "--no-notify", "--format", "json")
    no_crash(run(*plan, str(path)))


def test_fmt_diff_counts_lines_as_the_parser_does(tmp_path: Path, run: Callable[..., Run]) -> None:
    path = tmp_path / "a.policy"
    path.write_text("let a = 1  # x\u2028y\fz\rw\nlet  b = 2\n", encoding="utf-8")
    result = run("fmt", "--diff", str(path))
    assert "@@ -1,2 +1,2 @@" in result.out  # U+2028, a form feed and a lone CR end no line


# --------------------------------------------------------------------------- bounds


def test_a_list_that_doubles_forty_times_is_cut_at_its_bound() -> None:
    lines = ['let a0 = ["111122223333", "444455556666"]'] + [f"let a{i} = [a{i - 1}, a{i - 1}]" for i in range(1, 40)]
    with time_limit(20):
        result = checked("\n".join(lines))
    assert codes(result) == ["E318"]  # once: the names after it have no value, silently
    (d,) = result.diagnostics
    first_too_long = next(n for n in range(40) if 2 ** (n + 1) > MAX_LIST_ITEMS)
    assert (d.span.line, d.span.column) == (first_too_long + 1, len(f"let a{first_too_long} = ") + 1)
    assert f"{2 ** (first_too_long + 1):,} items" in d.message


def quoted(values: list[str]) -> str:
    """A list literal of strings."""
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def test_a_list_at_its_bound_is_fine() -> None:
    text = f"let a = {quoted(['111122223333'] * (MAX_LIST_ITEMS // 2))}\nlet b = [a, a]\n"
    assert codes(checked(text)) == []
    assert codes(checked(text.replace("[a, a]", '[a, a, "1"]'))) == ["E318"]


def test_a_rule_with_100000_targets() -> None:
    from policyengine.resolve import resolve
    from policyengine.workspace import load_sources

    statements = " ".join(
        "target " + quoted([ARN.format(f"{i}{j:05d}") for j in range(MAX_LIST_ITEMS)]) for i in range(1, 11)
    )
    with time_limit(20):  # each target was compared with every one before it: 5e9 comparisons
        resolved = resolve(load_sources([Source("t.policy", f'rule "r" {{ {statements} status deprecated }}')]))
    assert resolved.diagnostics == [] and len(resolved.rules[0].targets) == 10 * MAX_LIST_ITEMS


def test_a_chain_of_100000_bindings() -> None:
    n = 100_000
    lines = [f"let a{i} = a{i + 1}" for i in range(n)] + [f'let a{n} = "{ARN.format(7)}"']
    lines.append('rule "r" { target a0 status deprecated }')
    with time_limit(30):
        result = checked("\n".join(lines))
    assert codes(result) == []
    assert [r.request["resourceArn"] for r in result.compiled.requests] == [ARN.format(7)]


def test_a_cycle_of_100000_bindings_is_one_error() -> None:
    n = 100_000
    with time_limit(30):
        result = checked("\n".join(f"let a{i} = a{(i + 1) % n}" for i in range(n)))
    (d,) = result.diagnostics
    assert d.code == "E209" and len(d.message) < 200
    assert d.message.endswith(f"a0 -> a1 -> a2 -> a3 -> a4 -> ... ({n - 9} more) -> a99996 -> a99997 -> a99998"
                              " -> a99999 -> a0")  # fmt: skip


def _padded(size: int) -> bytes:
    """A file of exactly ``size`` bytes, in canonical form: a rule, then lines of comment."""
    body = f'rule "r" {{\n  target "{ARN.format(1)}"\n  status deprecated\n}}\n\n'.encode()
    line = b"# " + b"x" * 1021 + b"\n"
    lines = (size - len(body)) // len(line) - 1
    rest = size - len(body) - lines * len(line)
    return body + line * lines + b"#" + b"x" * (rest - 2) + b"\n"


@pytest.mark.parametrize("size", [MAX_FILE_BYTES - 1, MAX_FILE_BYTES, MAX_FILE_BYTES + 1])
def test_files_at_the_size_limit(size: int, tmp_path: Path, run: Callable[..., Run]) -> None:
    path = tmp_path / "big.policy"
    path.write_bytes(_padded(size))
    with time_limit(60):
        result = run("check", "--format", "json", str(path))
        formatted = run("fmt", "--check", str(path))
    found = [d["code"] for d in json.loads(result.out)["diagnostics"]]
    if size > MAX_FILE_BYTES:
        assert (result.code, found, formatted.code) == (1, ["E004"], 1)
    else:
        assert (result.code, found, formatted.code) == (0, [], 0)


def test_a_long_line() -> None:
    line = " ".join(f'let a{i} = "x"' for i in range(70_000 if FUZZ else 10_000))
    with time_limit(30):
        assert codes(checked(line)) == []
        formats_back(line)


@pytest.mark.parametrize(
    "text",
    ['let s = "' + "x" * 10_000_000 + '"\n', 'let s = "' + "\\n" * (2_500_000 if FUZZ else 500_000) + '"\n'],
    ids=["ten-megabytes", "escapes"],
)
def test_a_long_string_parses_in_little_memory(text: str) -> None:
    tracemalloc.start()
    try:
        parsed = parse(text, "s.policy")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed.ok
    assert peak < 4 * len(text), f"{peak:,} bytes to parse {len(text):,}"  # it was 190 times the string


def test_100000_rules() -> None:
    rules = 100_000 if FUZZ else 10_000
    rule = 'rule "r{0}" {{ target "{1}" status deprecated }}\n'
    with time_limit(120):
        result = checked("".join(rule.format(i, ARN.format(i)) for i in range(rules)))
    assert codes(result) == [] and len(result.compiled.requests) == rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let a = " + "[" * 100_000 + '"x"' + "]" * 100_000, ["E109"]),
        ("let a = " + "[" * 100_000, ["E107"]),
        ('let a = 1 rule "r" { exclude amis when ' + "not " * 100_000 + "public }", ["E109", "E405"]),
        ("let a = " + "[" * (MAX_NESTING + 1) + "1" + "]" * (MAX_NESTING + 1), ["E109"]),
        ("let a = " + "[" * MAX_NESTING + "1" + "]" * MAX_NESTING, ["E308"]),
    ],
    ids=["brackets", "open-brackets", "not", "just-too-deep", "deepest-allowed"],
)
def test_deep_nesting_never_recurses(text: str, expected: list[str], tmp_path: Path, run: Callable[..., Run]) -> None:
    with time_limit(30):
        result = checked(text)
        assert sorted(set(codes(result))) == expected and codes(result).count("E109") <= 1
        path = tmp_path / "deep.policy"
        path.write_text(text)
        no_crash(run("fmt", "--check", str(path)))
        formats_back(text)


def _write_imports(root: Path, edges: dict[int, list[int]], files: int) -> None:
    for i in range(files):
        imports = "".join(f'import "f{j}.policy"\n' for j in edges.get(i, []))
        (root / f"f{i}.policy").write_text(imports + f"let v{i} = {i}\n")


@pytest.mark.parametrize("shape", ["chain", "cycle", "wide", "dense"])
def test_import_graphs_of_1000_files(shape: str, tmp_path: Path, run: Callable[..., Run]) -> None:
    n = 1000
    edges: dict[int, list[int]] = {
        "chain": {i: [i + 1] for i in range(n - 1)},
        "cycle": {i: [(i + 1) % n] for i in range(n)},
        "wide": {0: list(range(1, n))},
        "dense": {i: [j for j in range(40) if j != i] for i in range(40)},  # 40 files, each imports the 39 others
    }[shape]
    _write_imports(tmp_path, edges, n)
    with time_limit(60):
        result = run("check", "--format", "json", str(tmp_path / "f0.policy"))
    no_crash(result)
    found = [d["code"] for d in json.loads(result.out)["diagnostics"]]
    if shape in ("chain", "wide"):
        assert found == []
    elif shape == "cycle":
        assert found == ["E206"] and "(991 more)" in json.loads(result.out)["diagnostics"][0]["message"]
    else:
        assert set(found) == {"E206"} and len(found) == 40 * 39 // 2  # each import back closes a cycle


def test_a_file_imported_20000_times(tmp_path: Path) -> None:
    n = 20_000
    (tmp_path / "big.policy").write_text("".join(f"let v{i} = {i}\n" for i in range(n)))
    (tmp_path / "main.policy").write_text('import "big.policy"\n' * n + "let w = v7\n")
    with time_limit(15):  # each import went through every name of the file again: 4e8 steps
        result = policyengine.load([str(tmp_path / "main.policy")], plugins=False)
    assert codes(result) == []


def test_thousands_of_undefined_names_among_thousands_of_bindings() -> None:
    n = 4000
    text = "".join(f"let v{i} = {i}\n" for i in range(n)) + "".join(f"let w{i} = v{i}x\n" for i in range(n))
    with time_limit(15):  # each hint compared the name with every binding: it took 34 s
        result = checked(text)
    assert codes(result) == ["E201"] * n
    assert "did you mean" in (result.diagnostics[0].hint or "")
    assert result.diagnostics[-1].hint == "bind it with `let`, or import the file that does"


def test_a_million_syntax_errors_stop_at_fifty() -> None:
    with time_limit(30):
        result = checked("\n".join(f"let {i} = {i}" for i in range(1_000_000)))
    assert codes(result) == ["E104"] * 50 + ["E108"]


ARNS = quoted([ARN.format(i) for i in range(MAX_LIST_ITEMS)])
EXCLUDING = f'target "{ARN.format(1)}" status deprecated include amis role "x" exclude amis when'


@pytest.mark.parametrize(
    "text",
    [  # each took minutes and gigabytes, from a file of a megabyte or less
        f"let big = {ARNS}\n" + "".join(f'rule "r{j}" {{ target big status deprecated }}\n' for j in range(1000)),
        f"let regs = {quoted([f'r{i}' for i in range(MAX_LIST_ITEMS)])}\n"
        + f'rule "r" {{ {EXCLUDING} {" or ".join(["region in regs"] * 1000)} }}\n',
        f'defaults {{ include amis role "x" exclude amis when region in {quoted(["us-east-1"] * MAX_LIST_ITEMS)} }}\n'
        + "".join(f'rule "r{j}" {{ target "{ARN.format(j)}" status deprecated }}\n' for j in range(1000)),
        f'rule "r" {{ target {ARNS} status deprecated include amis role "x"'
        f" exclude amis when region in {quoted(['us-east-1'] * MAX_LIST_ITEMS)} }}\n",
    ],
    ids=["a-list-in-every-rule", "a-list-in-every-criterion", "defaults-in-every-rule", "targets-times-exclusions"],
)
def test_names_and_requests_cannot_multiply_without_bound(text: str) -> None:
    with time_limit(60):
        result = checked(text)
    assert codes(result).count("E319") == 1 and result.errors == 1, codes(result)[:5]
    assert MAX_RUN_VALUES < 1000 * MAX_LIST_ITEMS  # what each case would reach without the bound


@pytest.mark.fuzz
def test_a_region_written_in_defaults_is_checked_once_for_all_rules() -> None:
    from policyengine.constraints import check_rule

    regions = ", ".join(f'"xx-nowhere-{i}"' for i in range(50))
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/{}"
    role = 'role "arn:aws:iam::123456789012:role/R"'
    rules = [f'rule "r{i}" {{ target "{arn.format(i + 1)}" status deprecated }}' for i in range(3)]
    text = "\n".join([f"defaults {{ include amis {role} exclude amis when region in [{regions}] }}", *rules])
    result = policyengine.loads(text, plugins=False)
    assert [d.code for d in result.diagnostics] == ["W002"] * 50
    warned: set[Any] = set()
    first, second = (check_rule(rule, warned) for rule in result.rules[:2])
    assert len(first) == 50 and second == []  # the second rule's copies of the same regions: not worked out again


@pytest.mark.fuzz
def test_images_found_by_selectors_count_against_the_run_budget(tmp_path: Path, run: Callable[..., Run]) -> None:
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/{}"
    images = [{"arn": arn.format(i + 1), "name": "a", "version": f"1.0.0/{i + 1}", "type": "AMI",
               "created": "2026-01-10T08:00:00Z", "status": "AVAILABLE"} for i in range(2000)]  # fmt: skip
    (tmp_path / "inventory.json").write_text(json.dumps({"images": images}))
    accounts = quoted([f"{100000000000 + i}" for i in range(600)])  # 2,000 requests × 600 accounts: over 1,000,000
    selecting = 'select images(name: "a") status deprecated include amis role "arn:aws:iam::123456789012:role/R"'
    (tmp_path / "r.policy").write_text(f'rule "wide" {{ {selecting} exclude amis when shared with {accounts} }}\n')
    result = run("compile", "--inventory", str(tmp_path / "inventory.json"), str(tmp_path / "r.policy"))
    assert result.code == 1 and "error[E319]" in result.err and result.out == ""
