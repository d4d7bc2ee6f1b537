"""The validator against the Image Builder service model read from botocore's data."""

from __future__ import annotations

import re
from typing import Any

import pytest

from policyengine.compiler import derive_token
from policyengine.servicemodel import _pattern, input_shape, known_regions, service_model, validate

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"


def request(**extra: Any) -> dict[str, Any]:
    return {"resourceArn": ARN, "state": {"status": "DEPRECATED"}, "clientToken": "t", **extra}


def codes(value: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return [(v.path, v.code) for v in validate(value)]


def test_a_valid_request_passes() -> None:
    assert validate(request(updateAt="2027-01-01T00:00:00Z")) == []


def test_required_member() -> None:
    assert (("clientToken",), "E311") in codes({"resourceArn": ARN, "state": {"status": "AVAILABLE"}})


def test_enum() -> None:
    assert codes(request(state={"status": "RETIRED"})) == [(("state", "status"), "E312")]


def test_types() -> None:
    found = codes(request(includeResources={"amis": "yes"}, exclusionRules={"amis": {"regions": "eu-west-1"}}))
    assert (("includeResources", "amis"), "E316") in found
    assert (("exclusionRules", "amis", "regions"), "E316") in found
    assert codes(request(bogus=1)) == [(("bogus",), "E316")]
    assert codes(request(updateAt="next tuesday")) == [(("updateAt",), "E316")]


def test_pattern_and_anchoring() -> None:
    assert codes(request(resourceArn=ARN + "\n")) == [(("resourceArn",), "E313")]
    amis = {"sharedAccounts": ["12345678901"]}
    assert codes(request(exclusionRules={"amis": amis})) == [(("exclusionRules", "amis", "sharedAccounts", 0), "E313")]
    assert codes(request(exclusionRules={"amis": {"tagMap": {"aws:x": "y"}}}))[0][1] == "E313"


def test_lengths_and_ranges() -> None:
    assert codes(request(clientToken="x" * 65)) == [(("clientToken",), "E314")]
    assert codes(request(exclusionRules={"amis": {"tagMap": {}}})) == [(("exclusionRules", "amis", "tagMap"), "E314")]
    last = {"lastLaunched": {"value": 366, "unit": "DAYS"}}
    assert codes(request(exclusionRules={"amis": last})) == [
        (("exclusionRules", "amis", "lastLaunched", "value"), "E315")
    ]


def test_constraints_come_from_the_model_not_a_table() -> None:
    shapes = service_model()["shapes"]
    assert input_shape() == "StartResourceStateUpdateRequest"
    assert shapes["AccountId"]["pattern"] == "^[0-9]{12}$"
    assert "DEPRECATED" in shapes["ResourceStatus"]["enum"]


def test_every_pattern_of_the_request_compiles_in_python() -> None:
    shapes = service_model()["shapes"]
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        shape = shapes[name]
        if "pattern" in shape:
            assert _pattern(shape["pattern"]) is not None, name
        for member in shape.get("members", {}).values():
            walk(member["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                walk(shape[key]["shape"])

    walk(input_shape())
    assert len(seen) > 10


def test_regions_come_from_botocore_partitions() -> None:
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "aws-global" not in regions
    assert "us-eest-1" not in regions


@pytest.mark.parametrize("rule", ["a", "b"])
def test_derived_tokens_fit_and_differ(rule: str) -> None:
    token = derive_token(rule, request())
    assert len(token) <= 36 and re.fullmatch(r"[0-9a-f-]{36}", token)
    assert token == derive_token(rule, request(clientToken="ignored"))
    assert token != derive_token(rule, request(state={"status": "DISABLED"}))
    assert token != derive_token(rule + "x", request())


def test_derived_token_is_the_same_on_every_machine() -> None:
    # A fixed value: if this changes, every user's re-run would send new requests.
    assert derive_token("r", request()) == "0088bbbb-89ae-5359-8550-4f0e78bb72b3"
