"""The production guard, on its own."""

from __future__ import annotations

import policyengine_prod_guard as guard
import pytest

import policyengine

PROD = "arn:aws:imagebuilder:us-east-1:123456789012:image/web-prod/1.0.0/1"
DEV = "arn:aws:imagebuilder:us-east-1:123456789012:image/web-dev/1.0.0/1"


def rule(target: str, status: str, exclude: str = "") -> object:
    text = f'rule "r" {{ target "{target}" status {status} role "R" include amis {exclude} }}'
    result = policyengine.loads(text)
    return result.rules[0]


def test_production_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert guard.production(PROD) and not guard.production(DEV)
    monkeypatch.setenv("PROD_GUARD_IMAGES", "web-*")
    assert guard.production(DEV)


def test_check_rule() -> None:
    assert [p.code for p in guard.check_rule(rule(PROD, "deleted"))] == ["PROD001", "PROD002"]
    assert guard.check_rule(rule(DEV, "deleted", 'exclude amis when tag keep = "true"')) == []
    assert guard.check_rule(rule(PROD, "disabled")) == []


def test_before_request_refuses_deleting_production() -> None:
    with pytest.raises(policyengine.Refuse):
        guard.before_request({"resourceArn": PROD, "state": {"status": "DELETED"}}, None)
    guard.before_request({"resourceArn": PROD, "state": {"status": "DISABLED"}}, None)
    guard.before_request({"resourceArn": DEV, "state": {"status": "DELETED"}}, None)
