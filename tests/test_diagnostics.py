"""One case per diagnostic code, discovered by file name, with its expected output.

`tests/diagnostics/CODE.policy` (or `CODE.args`, the arguments to `check`, one a line,
for cases that need several files or no file at all) must produce CODE; the whole text
output is kept in `CODE.expected`. Codes that no rule file can produce are tested where
they arise, and named in ``TESTED_ELSEWHERE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from policyengine.codes import CODES

from .conftest import ROOT, Run

CASES = ROOT / "tests" / "diagnostics"
TESTED_ELSEWHERE = {
    "E004": "tests/test_cli.py::test_file_too_large",
    "E415": "tests/test_plugins.py::test_a_selector_that_raises",
    "E416": "tests/test_plugins.py::test_a_selector_that_returns_no_arn",
    "E420": "tests/test_plan_cli.py::test_a_refused_request_fails_the_plan",
    "E499": "tests/test_plugins.py::test_check_rule_problems_name_the_plugin",
    "W499": "tests/test_plugins.py::test_check_rule_problems_name_the_plugin",
    "E501": "tests/test_inventory.py::test_invalid_json",
    "E502": "tests/test_inventory.py::test_fields_name_their_json_path",
    "E503": "tests/test_inventory.py::test_duplicate_images",
    "E311": "tests/test_servicemodel.py::test_required_member",
    "E312": "tests/test_servicemodel.py::test_enum",
    "E316": "tests/test_servicemodel.py::test_types",
}


def _cases() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for path in sorted(CASES.iterdir()):
        if path.suffix == ".policy":
            cases[path.stem] = [path.name]
        elif path.suffix == ".args":
            cases[path.stem] = path.read_text().split()
    return cases


CASES_BY_CODE = _cases()


@pytest.mark.parametrize("code", sorted(CASES_BY_CODE))
def test_case_reports_its_code(code: str, run: Callable[..., Run], golden: Callable[[Path, str], None]) -> None:
    result = run("check", *CASES_BY_CODE[code], cwd=CASES)
    assert "Traceback" not in result.out + result.err
    golden(CASES / f"{code}.expected", result.out)
    found = run("check", "--format", "json", *CASES_BY_CODE[code], cwd=CASES)
    codes = [d["code"] for d in json.loads(found.out)["diagnostics"]]
    assert code in codes
    assert found.code == (0 if code.startswith("W") else 1)


def test_every_code_has_a_test() -> None:
    assert set(CODES) == set(CASES_BY_CODE) | set(TESTED_ELSEWHERE)
    for code, where in TESTED_ELSEWHERE.items():
        file, _, name = where.partition("::")
        assert f"def {name}(" in (ROOT / file).read_text(), f"{code}: {where} does not exist"


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "language.md").read_text()
    for code, title in CODES.items():
        assert re.search(rf"^### {code}\b", doc, re.M), f"{code} ({title}) is not documented in docs/language.md"


def test_codes_are_grouped() -> None:
    for code in CODES:
        assert re.fullmatch(r"E[0-5]\d\d|W\d\d\d", code), code
