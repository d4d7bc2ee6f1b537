"""The public Python API."""

from __future__ import annotations

import subprocess
import sys

import pytest

import policyengine

from .conftest import ROOT

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"


def test_loads_and_compile() -> None:
    result = policyengine.loads(f'rule "a" {{ target "{ARN}" status disabled }}')
    assert result.ok and result.rules[0].name == "a"
    requests = policyengine.compile([str(ROOT / "rules")])
    assert all(r["resourceArn"].startswith("arn:aws:imagebuilder:") for r in requests)


def test_compile_raises_with_every_diagnostic() -> None:
    with pytest.raises(policyengine.RuleErrors) as exc:
        policyengine.compile([str(ROOT / "tests" / "diagnostics" / "E302.policy")])
    assert [d.code for d in exc.value.diagnostics] == ["E302"]


def test_import_is_light() -> None:
    heavy = "('lark', 'pydantic', 'boto3', 'botocore')"
    code = f"import sys, policyengine; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
