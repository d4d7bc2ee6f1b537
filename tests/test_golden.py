"""Golden files for each stage: source (formatted), model, requests.

Cases are discovered by file name: every `*.policy` under tests/golden/cases/ and every
file in rules/ (so the examples cannot rot). For `NAME.policy` the goldens are
`NAME.policy.formatted`, `NAME.model.json` and `NAME.requests.json` beside the case (for
rules/, under tests/golden/rules/).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from policyengine.engine import check_paths
from policyengine.formatter import format_file
from policyengine.parser import parse

from .conftest import ROOT

CASES = ROOT / "tests" / "golden" / "cases"
RULES = ROOT / "rules"
RULE_GOLDENS = ROOT / "tests" / "golden" / "rules"


def _cases() -> list[tuple[Path, Path]]:
    found = [(p, CASES) for p in sorted(CASES.glob("*.policy"))]
    found += [(p, RULE_GOLDENS) for p in sorted(RULES.glob("*.policy"))]
    return found


CASE_IDS = [f"{d.name}/{p.stem}" for p, d in _cases()]


@pytest.mark.parametrize(("source", "goldens"), _cases(), ids=CASE_IDS)
def test_source_stage(source: Path, goldens: Path, golden: Callable[[Path, str], None]) -> None:
    text = source.read_text(encoding="utf-8")
    parsed = parse(text, source.name)
    assert parsed.ok, parsed.diagnostics
    golden(goldens / f"{source.name}.formatted", format_file(parsed, text))


@pytest.mark.parametrize(("source", "goldens"), _cases(), ids=CASE_IDS)
def test_model_and_request_stages(
    source: Path, goldens: Path, golden: Callable[[Path, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(source.parent)
    result = check_paths([source.name])
    assert result.errors == 0, [d.message for d in result.diagnostics]
    models = [rule.model_dump(mode="json", exclude_defaults=True) for rule in result.rules]
    golden(goldens / f"{source.stem}.model.json", json.dumps(models, indent=2) + "\n")
    requests = {
        "requests": [r.to_json() for r in result.compiled.requests],
        "unresolved": [u.to_json() for u in result.compiled.unresolved],
        "warnings": [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in result.diagnostics],
    }
    golden(goldens / f"{source.stem}.requests.json", json.dumps(requests, indent=2) + "\n")


def test_every_rules_file_is_a_case() -> None:
    names = {p.name for p, _ in _cases()}
    assert {p.name for p in RULES.glob("*.policy")} <= names
    assert len(names) >= 8
