"""The simulator against a deliberately simple reference, over random inventories and requests."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.inventory import Image
from policyengine.simulate import simulate

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]
ACCOUNTS = ["111122223333", "444455556666"]
UNIT_DAYS = {"DAYS": 1, "WEEKS": 7}


def months_back(moment: datetime, months: int) -> datetime:
    """Step back one month at a time (independent of the engine's arithmetic)."""
    year, month = moment.year, moment.month
    for _ in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def reference_ami(ami: dict[str, Any], rules: dict[str, Any], included: bool) -> str:
    if not included:
        return "skipped"
    if ami["region"] in rules.get("regions", []):
        return "excluded"
    if rules.get("isPublic") and ami["public"]:
        return "excluded"
    for key, value in rules.get("tagMap", {}).items():
        if key in ami["tags"] and ami["tags"][key] == value:
            return "excluded"
    for account in ami["shared_accounts"]:
        if account in rules.get("sharedAccounts", []):
            return "excluded"
    window = rules.get("lastLaunched")
    if window is None or ami["last_launched"] is None:
        return "update"
    last = datetime.fromisoformat(ami["last_launched"])
    n, unit = window["value"], window["unit"]
    if unit in UNIT_DAYS:
        cutoffs = [NOW - timedelta(days=n * UNIT_DAYS[unit])]
    elif unit == "MONTHS":
        cutoffs = [months_back(NOW, n), NOW - timedelta(days=30 * n)]
    else:
        cutoffs = [months_back(NOW, 12 * n), NOW - timedelta(days=365 * n)]
    day = timedelta(days=1)
    if all(last > c + day for c in cutoffs):
        return "excluded"
    if all(last < c - day for c in cutoffs):
        return "update"
    return "uncertain"


def reference_record(status: str, ami_verdicts: list[str]) -> str:
    if status != "DELETED":
        return "update"
    if "excluded" in ami_verdicts:
        return "retained"
    return "uncertain" if "uncertain" in ami_verdicts else "update"


times = st.one_of(st.none(), st.integers(0, 3 * 365 * 24).map(lambda h: (NOW - timedelta(hours=h)).isoformat()))
amis = st.fixed_dictionaries({
    "region": st.sampled_from(REGIONS),
    "public": st.booleans(),
    "shared_accounts": st.lists(st.sampled_from(ACCOUNTS), unique=True, max_size=2),
    "tags": st.dictionaries(st.sampled_from(["env", "keep"]), st.sampled_from(["prod", "true", "x"]), max_size=2),
    "last_launched": times,
})  # fmt: skip
rules = st.fixed_dictionaries(
    {},
    optional={
        "regions": st.lists(st.sampled_from(REGIONS), min_size=1, unique=True),
        "isPublic": st.just(True),
        "tagMap": st.dictionaries(st.sampled_from(["env", "keep"]), st.sampled_from(["prod", "true"]), min_size=1),
        "sharedAccounts": st.lists(st.sampled_from(ACCOUNTS), min_size=1, unique=True),
        "lastLaunched": st.fixed_dictionaries({"value": st.integers(1, 36),
                                               "unit": st.sampled_from(["DAYS", "WEEKS", "MONTHS", "YEARS"])}),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(amis, max_size=5), rules, st.sampled_from(["DEPRECATED", "DISABLED", "DELETED"]), st.booleans())
def test_simulator_matches_the_reference(
    ami_list: list[dict[str, Any]], amis_rules: dict[str, Any], status: str, include_amis: bool
) -> None:
    entries = [{**a, "id": f"ami-{i:x}", "account": "123456789012"} for i, a in enumerate(ami_list)]
    image = Image.model_validate(
        {"arn": ARN, "name": "app", "version": "1.0.0/1", "type": "AMI", "created": "2025-01-01T00:00:00Z",
         "status": "AVAILABLE", "amis": entries}
    )  # fmt: skip
    request: dict[str, Any] = {
        "resourceArn": ARN,
        "state": {"status": status},
        "includeResources": {"amis": include_amis, "snapshots": False, "containers": False},
    }
    if amis_rules:
        request["exclusionRules"] = {"amis": amis_rules}
    outcome = simulate(request, image, NOW)
    found = [r["verdict"] for r in outcome.resources if r["type"] == "ami"]
    expected = [reference_ami(a, amis_rules, include_amis) for a in entries]
    assert found == expected
    (record,) = [r["verdict"] for r in outcome.resources if r["type"] == "image"]
    assert record == reference_record(status, expected)
