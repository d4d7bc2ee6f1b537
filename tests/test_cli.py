"""The command line end to end: formats, exit codes, and no traceback for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from policyengine import sources

from .conftest import ROOT, Run

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"
GOOD = f'rule "a" {{\n  target "{ARN}"\n  status deprecated\n}}\n'
WARN = f'rule "a" {{\n  target "{ARN}"\n  status deprecated\n  exclude amis when public\n}}\n'
BAD = f'rule "a" {{\n  target "{ARN}"\n  status deprecate\n}}\n'


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def writer(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return writer


def test_check_the_example_rules(run: Callable[..., Run]) -> None:
    result = run("check", str(ROOT / "rules"))
    assert result.code == 0, result.out
    assert "no problems" in result.out


def test_check_json_shape(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("check", "--format", "json", str(write("bad.policy", BAD)))
    data = json.loads(result.out)
    assert result.code == 1
    assert data["errors"] == 1 and data["warnings"] == 0
    d = data["diagnostics"][0]
    assert {k: d[k] for k in ("line", "column", "end_line", "end_column", "severity", "code")} == {
        "line": 3, "column": 10, "end_line": 3, "end_column": 19, "severity": "error", "code": "E302"
    }  # fmt: skip
    assert d["file"].endswith("bad.policy") and "deprecated" in d["hint"]


def test_check_sarif(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("check", "--format", "sarif", str(write("bad.policy", BAD)))
    log = json.loads(result.out)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "policyengine"
    assert run_["tool"]["driver"]["rules"][0]["id"] == "E302"
    res = run_["results"][0]
    assert res["ruleId"] == "E302" and res["level"] == "error"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 19}


def test_check_github_annotations(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("check", "--format", "github", str(write("bad.policy", BAD)))
    line = result.out.strip()
    assert line.startswith("::error file=")
    assert ",line=3,col=10,endLine=3,endColumn=18,title=E302 unknown status::unknown status `deprecate`" in line


def test_warnings_pass_unless_strict(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    path = str(write("warn.policy", WARN))
    assert run("check", path).code == 0
    assert run("check", "--strict", path).code == 1


def test_text_output_has_a_code_frame(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    out = run("check", str(write("bad.policy", BAD))).out
    assert "error[E302]: unknown status `deprecate`" in out
    assert "3 |   status deprecate\n" in out
    assert "  |          ^^^^^^^^^\n" in out
    assert "\x1b[" not in out  # no colour when not a terminal


def test_a_long_line_is_cropped_around_each_span(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    line = " ".join(f'let v{i} = "{"x" * 20}" let w{i} = @' for i in range(2000))  # 2,000 errors on one line
    out = run("check", "--no-cache", str(write("long.policy", line + "\n"))).out
    assert out.count("error[E101]") == 50 and len(out) < 50 * 1000  # E108 caps the count; frames stay short
    lines = out.split("\n")
    heads = [i for i, text in enumerate(lines) if "error[E101]" in text]
    source = lines[heads[-1] + 2]  # the 50th error, far along the line
    assert source.startswith("1 | …") and source.endswith("…") and len(source) < 260
    assert all(lines[i + 2][lines[i + 3].index("^")] == "@" for i in heads)  # each caret under its `@`


def test_compile_prints_requests(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("compile", str(write("good.policy", GOOD)))
    assert result.code == 0
    data = json.loads(result.out)
    assert data["unresolved"] == []
    (req,) = data["requests"]
    assert req["rule"] == "a" and req["line"] == 1
    assert set(req["request"]) == {"resourceArn", "state", "clientToken"}


def test_compile_with_errors_prints_no_requests(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("compile", str(write("bad.policy", BAD)))
    assert result.code == 1
    assert result.out == ""
    assert "E302" in result.err


def test_fmt_check_diff_and_write(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    path = write("ugly.policy", f'rule "a" {{ target "{ARN}"; status deprecated }}')
    check = run("fmt", "--check", str(path))
    assert check.code == 1 and check.out.strip() == str(path)
    diff = run("fmt", "--diff", str(path))
    assert diff.code == 0 and "+  status deprecated" in diff.out
    assert path.read_text() == f'rule "a" {{ target "{ARN}"; status deprecated }}'
    assert run("fmt", str(path)).code == 0
    assert path.read_text() == GOOD
    again = run("fmt", "--check", str(path))
    assert again.code == 0 and again.out == ""


def test_fmt_leaves_files_with_syntax_errors_alone(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    path = write("broken.policy", 'rule "a" { status }')
    result = run("fmt", str(path))
    assert result.code == 1 and "E104" in result.err
    assert path.read_text() == 'rule "a" { status }'


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'rule "caf\xe9" {}', "E003"),
        (b"\x00\x01\x02binary", "E003"),
        ('rule "a" {\n  status \u00a0deprecated\n}', "E101"),
        ("\ufeff" + GOOD, None),
    ],
)
def test_awkward_bytes(
    run: Callable[..., Run], write: Callable[..., Path], content: str | bytes, code: str | None
) -> None:
    result = run("check", "--format", "json", str(write("x.policy", content)))
    codes = [d["code"] for d in json.loads(result.out)["diagnostics"]]
    assert codes == ([code] if code else [])


def test_missing_paths_and_directories(run: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "dir.policy").mkdir()
    result = run("check", "--format", "json", str(tmp_path / "nope.policy"), str(tmp_path / "empty"),
                 str(tmp_path / "dir.policy"))  # fmt: skip
    assert result.code == 1
    assert sorted(d["code"] for d in json.loads(result.out)["diagnostics"]) == ["E001", "E005", "E005"]


def test_file_too_large(run: Callable[..., Run], write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 100)
    result = run("check", "--format", "json", str(write("big.policy", GOOD * 10)))
    assert [d["code"] for d in json.loads(result.out)["diagnostics"]] == ["E004"]


def test_ten_megabytes_of_garbage_ends_in_diagnostics(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    junk = ('rule "x" { status ??? } let = [ "unterminated\n' * 200_000)[: 10 * 1024 * 1024]
    result = run("check", "--format", "json", str(write("big.policy", junk)))
    data = json.loads(result.out)
    assert result.code == 1 and data["errors"] >= 1
    assert any(d["code"] == "E108" for d in data["diagnostics"])


def test_internal_errors_say_so(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, write: Callable[..., Path]
) -> None:
    import policyengine.engine

    def boom(*args: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(policyengine.engine, "_finish", boom)  # every front-end path goes through it
    result = run("check", str(write("good.policy", GOOD)))
    assert result.code == 3
    assert "internal error: RuntimeError: kaboom" in result.err
    assert "report" in result.err and "Traceback" not in result.err


def test_usage_errors_exit_2(run: Callable[..., Run]) -> None:
    assert run("check").code == 2
    assert run("check", "--format", "xml", "rules").code == 2


def test_module_entry_point_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "policyengine", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("policyengine ")


def test_early_years_keep_four_digits(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run(
        "compile", str(write("y.policy", GOOD.replace("status deprecated", "status deprecated at 0099-01-01")))
    )
    assert json.loads(result.out)["requests"][0]["request"]["updateAt"] == "0099-01-01T00:00:00Z"


def test_a_bad_value_causes_no_follow_on_errors(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    text = GOOD.replace("status deprecated", "status deleted role 5 include amis")
    result = run("check", "--format", "json", str(write("r.policy", text)))
    assert [d["code"] for d in json.loads(result.out)["diagnostics"]] == ["E301"]


def test_a_file_importing_itself_is_one_cycle(run: Callable[..., Run], write: Callable[..., Path]) -> None:
    result = run("check", "--format", "json", str(write("s.policy", 'import "s.policy"\nlet a = 1\n')))
    assert [d["code"] for d in json.loads(result.out)["diagnostics"]] == ["E206"]


@pytest.mark.parametrize("option", ["--rate", "--timeout"])
def test_apply_refuses_a_number_that_is_not_one(run: Callable[..., Run], option: str) -> None:
    result = run("apply", option, "nan", str(ROOT / "rules"))
    assert result.code == 2 and "'nan' is not a number" in result.err
