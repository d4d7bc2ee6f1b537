"""The dry-run: what Image Builder would do with one request, resource by resource, and why.

A pure function of (request, image, now). It follows the service's documented semantics:
exclusion criteria are joined by OR and checked in the order region, public, tag, shared
accounts, last launched; each AMI is judged in its own region, by its own EC2 tags; the
snapshots of an excluded AMI are kept with it; an AMI never launched is not excluded by
`launched within`. Where the outcome depends on what the service does not document (a last
launch near the edge of the window, months and years of unspecified length), the verdict
is `uncertain`, with the reason, and never silently counted one way or the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .durations import before
from .inventory import Ami, Image

UPDATE, EXCLUDED, SKIPPED, RETAINED, UNCERTAIN = "update", "excluded", "skipped", "retained", "uncertain"
VERDICTS = (UPDATE, EXCLUDED, SKIPPED, RETAINED, UNCERTAIN)
BUILDING = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"})
CREATED_BY = ("CreatedBy", "EC2 Image Builder")
EDGE = timedelta(days=1)  # EC2 records launches up to a day late; the service judges at run time
FIXED_DAYS = {"MONTHS": 30, "YEARS": 365}


Resource = dict[str, Any]  # {"type", "id", "region", "account", "verdict", "reasons"}: plans hold many


def resource(kind: str, id_: str, region: str, account: str, verdict: str, reasons: tuple[str, ...] = ()) -> Resource:
    """One resource a request reaches and what would happen to it, in the shape of `plan --format json`.

    (`reasons` is a tuple: JSON writes it as an array.)
    """
    return {"type": kind, "id": id_, "region": region, "account": account, "verdict": verdict, "reasons": reasons}


@dataclass
class Outcome:
    """The simulation of one request: its resources, warnings, and why the service would refuse it."""

    resources: list[Resource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def simulate(request: dict[str, Any], image: Image | None, now: datetime) -> Outcome:
    """Simulate one `StartResourceStateUpdate` request against the image it targets."""
    out = Outcome()
    arn = request["resourceArn"]
    status = request["state"]["status"]
    if image is None:
        out.errors.append(
            f"{arn} is not known (not in the inventory, or not found by GetImage): the service"
            " would answer ResourceNotFoundException"
        )
        return out
    at = _parse_time(request["updateAt"]) if "updateAt" in request else None
    out.errors.extend(_refusals(image, status, at, now))
    if out.errors:
        return out
    include = request.get("includeResources", {})
    rules = request.get("exclusionRules", {}).get("amis")
    at = at or now  # the service judges the window when the execution runs
    criteria = _Criteria.of(rules, at)
    amis = [_judge_ami(ami, include.get("amis", False), criteria) for ami in image.amis]
    out.resources.extend(amis)
    for ami, judged in zip(image.amis, amis, strict=True):
        out.resources.extend(_snapshots(ami, judged, include.get("snapshots", False)))
    out.resources.extend(_containers(image, include.get("containers", False)))
    out.resources.append(_image_record(image, status, amis))
    out.warnings.extend(_warnings(image, status, include, rules, amis))
    return out


def _refusals(image: Image, status: str, at: datetime | None, now: datetime) -> list[str]:
    """Why the service would refuse the request, given the image's current state."""
    current = image.status
    if current == "DELETED":
        return ["the image is already DELETED: Image Builder accepts no state change for it"]
    if current in BUILDING:
        return [f"the image is still being built ({current}): Image Builder accepts no state change yet"]
    if current in ("FAILED", "CANCELLED") and status != "DELETED":
        return [f"a {current} image accepts only `status deleted`"]
    if image.type == "DOCKER" and status != "DELETED":
        return ["a container image accepts only `status deleted`"]
    if at is not None and at <= now:
        return [
            f"`at` {at.isoformat().replace('+00:00', 'Z')} is not in the future: the service refuses a past update time"
        ]
    return []


@dataclass(frozen=True)
class _Criteria:
    """A request's exclusion criteria, prepared once for all the AMIs it reaches."""

    regions: frozenset[str]
    public: bool
    tags: tuple[tuple[str, str], ...]
    shared: frozenset[str]
    window: tuple[str, datetime, datetime] | None  # "6 months", earliest and latest cutoff

    @classmethod
    def of(cls, rules: dict[str, Any] | None, at: datetime) -> _Criteria:
        rules = rules or {}
        last = rules.get("lastLaunched")
        window = None
        if last:
            earliest, latest = launch_window(last["value"], last["unit"], at)
            window = (f"{last['value']} {last['unit'].lower()}", earliest, latest)
        regions, shared = frozenset(rules.get("regions", ())), frozenset(rules.get("sharedAccounts", ()))
        return cls(regions, bool(rules.get("isPublic")), tuple(rules.get("tagMap", {}).items()), shared, window)

    def judge(self, ami: Ami) -> tuple[list[str], str | None]:
        """The criteria an AMI meets, in Image Builder's order, and a doubt about the window."""
        matched = []
        if ami.region in self.regions:
            matched.append(f"region {ami.region} is in regions")
        if self.public and ami.public:
            matched.append("the AMI is public")
        for key, value in self.tags:
            if ami.tags.get(key) == value:
                matched.append(f"tag {key}={value} matches")
        if self.shared and not self.shared.isdisjoint(ami.shared_accounts):
            matched.append("shared with " + ", ".join(sorted(self.shared.intersection(ami.shared_accounts))))
        doubt = None
        if self.window and ami.last_launched is not None:
            verdict = _launched(ami.last_launched, *self.window)
            if verdict == EXCLUDED:
                matched.append(f"last launched {_when(ami.last_launched)}, within {self.window[0]}")
            elif verdict == UNCERTAIN:
                doubt = _doubt(ami.last_launched, *self.window)
        return matched, doubt


def _judge_ami(ami: Ami, included: bool, criteria: _Criteria) -> Resource:
    if ami.missing:
        reason = "Image Builder lists this AMI but EC2 no longer has it (the service reports it as done)"
        return resource("ami", ami.id, ami.region, ami.account, SKIPPED, (reason,))
    if not included:
        return resource("ami", ami.id, ami.region, ami.account, SKIPPED, ("amis not included",))
    matched, doubt = criteria.judge(ami)
    if matched:
        return resource("ami", ami.id, ami.region, ami.account, EXCLUDED, tuple(matched))
    if doubt:
        return resource("ami", ami.id, ami.region, ami.account, UNCERTAIN, (doubt,))
    return resource("ami", ami.id, ami.region, ami.account, UPDATE)


def launch_window(value: int, unit: str, at: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest cutoff that a reading of `launched within VALUE UNIT` gives at ``at``.

    Days and weeks are exact. Months and years may be calendar ones or fixed lengths (30 and
    365 days): the service does not say, so both readings bound the window.
    """
    if unit in FIXED_DAYS:
        calendar = before(at, value, unit)
        fixed = at - timedelta(days=value * FIXED_DAYS[unit])
        return min(calendar, fixed), max(calendar, fixed)
    cutoff = before(at, value, unit)
    return cutoff, cutoff


def _launched(last: datetime, window: str, earliest: datetime, latest: datetime) -> str:
    """Whether a last launch is surely inside the window (excluded), surely outside, or near its edge."""
    if last > latest + EDGE:
        return EXCLUDED
    if last < earliest - EDGE:
        return UPDATE
    return UNCERTAIN


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _doubt(last: datetime, window: str, earliest: datetime, latest: datetime) -> str:
    if earliest == latest:
        edge = f"within a day of the edge of the {window} window ({latest:%Y-%m-%d %H:%M} UTC)"
    else:
        edge = (f"between the shortest and the longest reading of {window} ({earliest:%Y-%m-%d} to "
                f"{latest:%Y-%m-%d}, calendar or fixed-length), widened by a day")  # fmt: skip
    return (f"last launched {_when(last)}, {edge}: EC2 records launches up to a day late and the"
            " service judges the window when the execution runs")  # fmt: skip


def _snapshots(ami: Ami, judged: Resource, included: bool) -> list[Resource]:
    out = []
    for snap in ami.snapshots:
        if not included:
            out.append(resource("snapshot", snap, ami.region, ami.account, SKIPPED, ("snapshots not included",)))
        elif judged["verdict"] == EXCLUDED:
            out.append(resource("snapshot", snap, ami.region, ami.account, EXCLUDED, (f"{ami.id} is excluded",)))
        elif judged["verdict"] == UNCERTAIN:
            out.append(resource("snapshot", snap, ami.region, ami.account, UNCERTAIN, (f"{ami.id} is uncertain",)))
        else:
            out.append(resource("snapshot", snap, ami.region, ami.account, UPDATE))
    return out


def _containers(image: Image, included: bool) -> list[Resource]:
    account = image.arn.split(":")[4]
    return [
        resource("container", c.uri, c.region, c.uri.split(".", 1)[0] if ".dkr." in c.uri else account,
                 UPDATE if included else SKIPPED, () if included else ("containers not included",))
        for c in image.containers
    ]  # fmt: skip


def _image_record(image: Image, status: str, amis: list[Resource]) -> Resource:
    region, account = image.arn.split(":")[3], image.arn.split(":")[4]
    reasons: list[str] = []
    verdict = UPDATE
    if status == "DELETED":
        excluded = [a["id"] for a in amis if a["verdict"] == EXCLUDED]
        uncertain = [a["id"] for a in amis if a["verdict"] == UNCERTAIN]
        if excluded:
            verdict = RETAINED
            reasons = [f"{', '.join(excluded)} {'was' if len(excluded) == 1 else 'were'} excluded, "
                       "so the image record is kept"]  # fmt: skip
        elif uncertain:
            verdict = UNCERTAIN
            reasons = [f"the image record is kept if {', '.join(uncertain)} turns out excluded"]
    if image.status == status:
        reasons.append(f"the image is already {status}")
    return resource("image", image.arn, region, account, verdict, tuple(reasons))


def _warnings(
    image: Image, status: str, include: dict[str, bool], rules: dict[str, Any] | None, amis: list[Resource]
) -> list[str]:
    out = []
    if rules and not include.get("amis"):
        out.append("exclusion rules have no effect without `include amis`")
    touched = {a["id"] for a in amis if a["verdict"] in (UPDATE, UNCERTAIN)}
    for ami in image.amis:
        if ami.missing and include.get("amis"):
            out.append(f"{ami.id} is gone from EC2: nothing will happen to it")
        if ami.id in touched and ami.tags.get(CREATED_BY[0]) != CREATED_BY[1]:
            out.append(f"{ami.id} has no `CreatedBy: EC2 Image Builder` tag: the managed execution policy will"
                       " deny the action on it and its snapshots")  # fmt: skip
    if status == "DISABLED" and include.get("amis"):
        out.append("disabled removes the AMIs' launch permissions for good: `available` does not bring them back")
    if status == "DELETED":
        out.append("deleted cannot be undone")
    return out


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
