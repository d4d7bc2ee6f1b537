"""The simulator, rule by rule: each case names the behaviour it pins down."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from policyengine.inventory import Image
from policyengine.simulate import launch_window, simulate

NOW = datetime(2026, 12, 4, tzinfo=UTC)
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"
TAGS = {"CreatedBy": "EC2 Image Builder"}


def ami(id_: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "region": "us-east-1", "account": "123456789012", "tags": dict(TAGS), **kw}


def image(*amis: dict[str, Any], **kw: Any) -> Image:
    data = {"arn": ARN, "name": "app", "version": "1.0.0/1", "type": "AMI", "created": "2026-01-01T00:00:00Z",
            "status": "AVAILABLE", "amis": list(amis), **kw}  # fmt: skip
    return Image.model_validate(data)


def request(status: str = "DEPRECATED", include: str | None = "amis", **amis_rules: Any) -> dict[str, Any]:
    req: dict[str, Any] = {"resourceArn": ARN, "state": {"status": status}, "clientToken": "t"}
    if include is not None:
        named = include.split(",") if include else []
        req["includeResources"] = {k: k in named for k in ("amis", "snapshots", "containers")}
    if amis_rules:
        req["exclusionRules"] = {"amis": amis_rules}
    return req


def verdicts(outcome: Any, kind: str = "ami") -> list[tuple[str, str, tuple[str, ...]]]:
    return [(r["id"], r["verdict"], r["reasons"]) for r in outcome.resources if r["type"] == kind]


CASES = [
    ("no exclusion: every included AMI is updated",
     request(), [ami("ami-1")], [("ami-1", "update", ())]),
    ("criteria are joined by OR",
     request(isPublic=True, regions=["eu-west-1"]),
     [ami("ami-1", public=True), ami("ami-2", region="eu-west-1"), ami("ami-3")],
     [("ami-1", "excluded", ("the AMI is public",)), ("ami-2", "excluded", ("region eu-west-1 is in regions",)),
      ("ami-3", "update", ())]),
    ("reasons follow Image Builder's order: region, public, tag, shared, last launched",
     request(regions=["us-east-1"], isPublic=True, tagMap={"env": "prod"}, sharedAccounts=["111122223333"],
             lastLaunched={"value": 7, "unit": "DAYS"}),
     [ami("ami-1", public=True, tags={**TAGS, "env": "prod"}, shared_accounts=["111122223333"],
          last_launched="2026-12-01T00:00:00Z")],
     [("ami-1", "excluded", ("region us-east-1 is in regions", "the AMI is public", "tag env=prod matches",
                             "shared with 111122223333", "last launched 2026-12-01 00:00 UTC, within 7 days"))]),
    ("each AMI is judged in its own region",
     request(regions=["eu-west-1"]), [ami("ami-1", region="us-east-1"), ami("ami-2", region="eu-west-1")],
     [("ami-1", "update", ()), ("ami-2", "excluded", ("region eu-west-1 is in regions",))]),
    ("tags are the AMI's own, key and value both matching, case-sensitive",
     request(tagMap={"env": "prod"}),
     [ami("ami-1", tags={**TAGS, "env": "Prod"}), ami("ami-2", tags={**TAGS, "Env": "prod"}),
      ami("ami-3", tags={**TAGS, "env": "prod"})],
     [("ami-1", "update", ()), ("ami-2", "update", ()), ("ami-3", "excluded", ("tag env=prod matches",))]),
    ("the image's own tags do not count",
     request(tagMap={"team": "platform"}), [ami("ami-1")], [("ami-1", "update", ())]),
    ("an AMI never launched is not excluded by launched within",
     request(lastLaunched={"value": 30, "unit": "DAYS"}), [ami("ami-1")], [("ami-1", "update", ())]),
    ("a launch well outside the window does not exclude",
     request(lastLaunched={"value": 30, "unit": "DAYS"}), [ami("ami-1", last_launched="2026-10-01T00:00:00Z")],
     [("ami-1", "update", ())]),
    ("AMIs not included are skipped, whatever the exclusions",
     request(include="", isPublic=True), [ami("ami-1", public=True)],
     [("ami-1", "skipped", ("amis not included",))]),
    ("without include, only the image record changes",
     request(include=None), [ami("ami-1")], [("ami-1", "skipped", ("amis not included",))]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "req", "amis", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ami_verdicts(name: str, req: dict[str, Any], amis: list[dict[str, Any]], expected: list[Any]) -> None:
    assert verdicts(simulate(req, image(*amis), NOW)) == expected


@pytest.mark.parametrize(
    ("name", "last", "window", "verdict"),
    [
        ("days: a day inside the edge is uncertain", "2026-11-04T12:00:00Z", (30, "DAYS"), "uncertain"),
        ("days: a day outside the edge is uncertain", "2026-11-03T12:00:00Z", (30, "DAYS"), "uncertain"),
        ("days: well inside is excluded", "2026-11-06T00:00:01Z", (30, "DAYS"), "excluded"),
        ("days: well outside is updated", "2026-11-02T23:59:59Z", (30, "DAYS"), "update"),
        ("weeks are exact", "2026-11-20T00:00:00Z", (2, "WEEKS"), "uncertain"),
        ("months: between calendar (06-04) and 30-day (06-07) readings", "2026-06-05T00:00:00Z", (6, "MONTHS"),
         "uncertain"),
        ("months: inside both readings plus a day", "2026-06-08T00:00:01Z", (6, "MONTHS"), "excluded"),
        ("months: outside both readings minus a day", "2026-06-02T23:59:59Z", (6, "MONTHS"), "update"),
        ("years: calendar and 365 days agree outside leap years", "2025-12-04T12:00:00Z", (1, "YEARS"), "uncertain"),
    ],
)  # fmt: skip
def test_launched_within_edges(name: str, last: str, window: tuple[int, str], verdict: str) -> None:
    req = request(lastLaunched={"value": window[0], "unit": window[1]})
    ((_, found, reasons),) = verdicts(simulate(req, image(ami("ami-1", last_launched=last)), NOW))
    assert found == verdict
    if verdict == "uncertain":
        assert "EC2 records launches up to a day late" in reasons[0]


def test_months_are_bounded_by_both_readings() -> None:
    earliest, latest = launch_window(6, "MONTHS", NOW)
    assert (earliest.date().isoformat(), latest.date().isoformat()) == ("2026-06-04", "2026-06-07")


def test_the_window_is_judged_when_the_execution_runs() -> None:
    req = request(lastLaunched={"value": 7, "unit": "DAYS"}) | {"updateAt": "2027-01-01T00:00:00Z"}
    amis = [ami("ami-1", last_launched="2026-12-03T00:00:00Z")]
    assert verdicts(simulate(req, image(*amis), NOW))[0][1] == "update"  # launched 29 days before the update time


def test_snapshots_follow_their_ami() -> None:
    amis = [ami("ami-1", public=True, snapshots=["snap-1"]), ami("ami-2", snapshots=["snap-2", "snap-3"]),
            ami("ami-3", last_launched="2026-11-27T12:00:00Z", snapshots=["snap-4"])]  # fmt: skip
    req = request("DELETED", "amis,snapshots", isPublic=True, lastLaunched={"value": 7, "unit": "DAYS"})
    assert verdicts(simulate(req, image(*amis), NOW), "snapshot") == [
        ("snap-1", "excluded", ("ami-1 is excluded",)),
        ("snap-2", "update", ()),
        ("snap-3", "update", ()),
        ("snap-4", "uncertain", ("ami-3 is uncertain",)),
    ]


def test_snapshots_not_included_are_skipped() -> None:
    out = simulate(request("DELETED", "amis"), image(ami("ami-1", snapshots=["snap-1"])), NOW)
    assert verdicts(out, "snapshot") == [("snap-1", "skipped", ("snapshots not included",))]


@pytest.mark.parametrize(
    ("name", "status", "amis", "verdict"),
    [
        ("deprecated changes the record regardless of exclusions", "DEPRECATED", [ami("ami-1", public=True)], "update"),
        ("disabled changes the record regardless of exclusions", "DISABLED", [ami("ami-1", public=True)], "update"),
        ("deleted keeps the record when an AMI is excluded", "DELETED", [ami("ami-1", public=True), ami("ami-2")],
         "retained"),
        ("deleted removes the record when nothing is excluded", "DELETED", [ami("ami-2")], "update"),
        ("deleted with an uncertain AMI leaves the record uncertain", "DELETED",
         [ami("ami-3", last_launched="2026-11-27T12:00:00Z")], "uncertain"),
    ],
)  # fmt: skip
def test_the_image_record(name: str, status: str, amis: list[dict[str, Any]], verdict: str) -> None:
    req = request(status, "amis", isPublic=True, lastLaunched={"value": 7, "unit": "DAYS"})
    (record,) = [r for r in simulate(req, image(*amis), NOW).resources if r["type"] == "image"]
    assert record["verdict"] == verdict


@pytest.mark.parametrize(
    ("name", "current", "kind", "status", "refused"),
    [
        ("a deleted image accepts nothing", "DELETED", "AMI", "DELETED", "already DELETED"),
        ("an image still building accepts nothing", "BUILDING", "AMI", "DELETED", "still being built"),
        ("a failed image accepts only deleted", "FAILED", "AMI", "DEPRECATED", "accepts only `status deleted`"),
        ("a failed image may be deleted", "FAILED", "AMI", "DELETED", None),
        ("a cancelled image accepts only deleted", "CANCELLED", "AMI", "DISABLED", "accepts only"),
        ("a container image accepts only deleted", "AVAILABLE", "DOCKER", "DEPRECATED", "container image"),
        ("a container image may be deleted", "AVAILABLE", "DOCKER", "DELETED", None),
    ],
)  # fmt: skip
def test_source_states(name: str, current: str, kind: str, status: str, refused: str | None) -> None:
    out = simulate(request(status, "amis"), image(status=current, type=kind), NOW)
    if refused is None:
        assert out.errors == []
    else:
        assert len(out.errors) == 1 and refused in out.errors[0] and out.resources == []


def test_an_update_time_in_the_past_is_refused() -> None:
    req = request() | {"updateAt": "2026-12-03T00:00:00Z"}
    assert "not in the future" in simulate(req, image(), NOW).errors[0]


def test_a_target_missing_from_the_inventory_is_refused() -> None:
    assert "ResourceNotFoundException" in simulate(request(), None, NOW).errors[0]


def test_warnings() -> None:
    untagged = ami("ami-1", tags={})
    out = simulate(request("DISABLED", "amis"), image(untagged, ami("ami-2", public=True)), NOW)
    assert any("ami-1 has no `CreatedBy: EC2 Image Builder` tag" in w for w in out.warnings)
    assert any("launch permissions for good" in w for w in out.warnings)
    assert "deleted cannot be undone" in simulate(request("DELETED", "amis"), image(), NOW).warnings
    out = simulate(request("DEPRECATED", None, isPublic=True), image(), NOW)
    assert "exclusion rules have no effect without `include amis`" in out.warnings


def test_containers_follow_include() -> None:
    containers = [{"uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", "region": "us-east-1"}]
    img = image(type="DOCKER", containers=containers)
    assert verdicts(simulate(request("DELETED", "containers"), img, NOW), "container")[0][1] == "update"
    skipped = verdicts(simulate(request("DELETED", "amis"), img, NOW), "container")[0]
    assert skipped[1:] == ("skipped", ("containers not included",))


def test_an_ami_gone_from_ec2_is_skipped_with_a_warning() -> None:
    out = simulate(request("DELETED", "amis"), image(ami("ami-1", missing=True), ami("ami-2")), NOW)
    assert verdicts(out)[0][:2] == ("ami-1", "skipped") and "EC2 no longer has it" in verdicts(out)[0][2][0]
    assert any("ami-1 is gone from EC2" in w for w in out.warnings)
