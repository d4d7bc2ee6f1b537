"""Reading AWS live (no ``--inventory``): Image Builder and EC2, strictly read-only.

``list_images`` lists every image build version the account owns in a region (what the
selectors see as ``context.images``); ``read_inventory`` reads the target images with
``GetImage``, each in its ARN's own region, and then what EC2 knows of their AMIs, into the
``Inventory`` a dry-run simulates against. Lists go through the paginators: every ``nextToken``
is followed, short pages are expected and no order is relied on. Only Describe/Get/List calls
are made. Clients come from ``aws.Aws``; this module imports neither boto3 nor botocore (error
answers are recognised by their code, ``aws.error_code``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from .aws import EC2, IMAGEBUILDER, Aws, aws_errors, error_code, error_message
from .errors import PolicyEngineError
from .inventory import Ami, Container, Image, Inventory

Data = dict[str, Any]
Location = tuple[str, str]  # (region, AMI id)
Ec2Details = Mapping[Location, Data | None]  # None: EC2 does not have the AMI

NOT_FOUND = "ResourceNotFoundException"
AMI_GONE = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})
DESCRIBE_BATCH = 100  # image ids per DescribeImages request
_AMI_ID = re.compile(r"ami-[0-9a-f]+")


# --- Image Builder ---------------------------------------------------------------------------------


def list_images(aws: Aws, region: str | None = None) -> list[Image]:
    """Every image build version the account owns in ``region`` (default: the default region).

    ``ListImages`` (owner Self, deprecated versions included) gives the image versions, then
    ``ListImageBuildVersions`` their builds. The AMIs carry Image Builder's data only (EC2
    details default). Sorted by ARN.
    """
    region = region or aws.default_region
    client = aws.client(IMAGEBUILDER, region)
    with aws_errors(f"Image Builder ListImages in {region}"):
        versions = _paginate(client, "list_images", "imageVersionList", owner="Self", includeDeprecated=True)
    builds: dict[str, Data] = {}
    for version in versions:
        with aws_errors(f"Image Builder ListImageBuildVersions {version['arn']}"):
            for summary in _paginate(client, "list_image_build_versions", "imageSummaryList",
                                     imageVersionArn=version["arn"]):  # fmt: skip
                builds[summary["arn"]] = summary
    return [_image(builds[arn]) for arn in sorted(builds)]


def read_inventory(aws: Aws, arns: Iterable[str]) -> tuple[Inventory, dict[str, str]]:
    """The inventory of the target images, and the targets Image Builder does not know (ARN -> message).

    ``GetImage`` runs in each ARN's own region; the image is listed under the ARN it answers with
    (a version ARN resolves to its latest build). EC2 then gives each AMI's public flag, shares,
    tags, last launch and snapshots; an AMI EC2 does not have is marked ``missing``.
    """
    found, not_found = _get_images(aws, arns)
    locations = {(ami["region"], ami["image"]) for data in found for ami in _amis_of(data)}
    details = ec2_details(aws, locations)
    return Inventory(images=[_image(data, details) for data in found]), not_found


def _get_images(aws: Aws, arns: Iterable[str]) -> tuple[list[Data], dict[str, str]]:
    found: dict[str, Data] = {}
    not_found: dict[str, str] = {}
    for arn in dict.fromkeys(arns):
        client = aws.client(IMAGEBUILDER, arn_region(arn))
        with aws_errors(f"Image Builder GetImage {arn}"):
            try:
                image: Data = client.get_image(imageBuildVersionArn=arn)["image"]
            except Exception as exc:  # an error answer (ClientError) has a code
                if error_code(exc) != NOT_FOUND:
                    raise
                not_found[arn] = error_message(exc)
                continue
        found.setdefault(image["arn"], image)
    return list(found.values()), not_found


def arn_region(arn: str) -> str:
    """The region of an Image Builder ARN (``arn:aws:imagebuilder:REGION:ACCOUNT:...``)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "imagebuilder" or not parts[3]:
        raise PolicyEngineError(f"`{arn}` is not an Image Builder image ARN")
    return parts[3]


def _paginate(client: Any, operation: str, key: str, **params: Any) -> list[Data]:
    pages = client.get_paginator(operation).paginate(**params)
    return [item for page in pages for item in page.get(key, [])]


def _amis_of(data: Data) -> list[Data]:
    amis = (data.get("outputResources") or {}).get("amis") or []
    return [ami for ami in amis if ami.get("image") and ami.get("region")]


def _image(data: Data, details: Ec2Details | None = None) -> Image:
    """An Image Builder ``Image`` (or ``ImageSummary``) as an inventory image."""
    arn = str(data.get("arn"))
    try:
        account = arn.split(":")[4]
        amis = [_ami(ami, account, details) for ami in _amis_of(data)]
        containers = [Container(uri=uri, region=c["region"])
                      for c in (data.get("outputResources") or {}).get("containers") or []
                      for uri in c.get("imageUris") or []]  # fmt: skip
        return Image(arn=arn, name=data["name"], version=data["version"], type=data["type"],
                     created=parse_time(data["dateCreated"], f"{arn}: dateCreated"),
                     status=data["state"]["status"], tags=data.get("tags") or {}, amis=amis,
                     containers=containers)  # fmt: skip
    except (KeyError, IndexError, ValidationError) as exc:
        raise PolicyEngineError(f"{arn}: Image Builder's answer cannot be read: {_reason(exc)}") from None


def _ami(ami: Data, account: str, details: Ec2Details | None) -> Ami:
    base = {"id": ami["image"], "region": ami["region"], "account": ami.get("accountId") or account}
    if details is None:
        return Ami(**base)
    found = details.get((ami["region"], ami["image"]))
    return Ami(**base, missing=True) if found is None else Ami(**base, **found)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return f"{exc!r} is missing"


def parse_time(value: Any, what: str) -> datetime:
    """A timestamp as AWS writes it (``2026-01-05T08:00:00.000Z``, or a datetime), in UTC if unzoned."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise PolicyEngineError(f"{what}: `{value}` is not a date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- EC2 -------------------------------------------------------------------------------------------


def ec2_details(aws: Aws, locations: Iterable[Location]) -> dict[Location, Data | None]:
    """What EC2 knows of each AMI, as ``Ami`` fields; None for an AMI EC2 does not have."""
    by_region: dict[str, list[str]] = {}
    for region, ami in sorted(set(locations)):
        by_region.setdefault(region, []).append(ami)
    details: dict[Location, Data | None] = {}
    for region, ids in by_region.items():
        client = aws.client(EC2, region)
        with aws_errors(f"EC2 DescribeImages in {region}"):
            described = describe_images(client, ids)
        for ami in ids:
            data = described.get(ami)
            details[(region, ami)] = None if data is None else _ec2_fields(client, data, region)
    return details


def describe_images(client: Any, ids: list[str]) -> dict[str, Data]:
    """DescribeImages of ``ids`` (disabled and deprecated included), by id; ids EC2 lacks are left out."""
    found: dict[str, Data] = {}
    for start in range(0, len(ids), DESCRIBE_BATCH):
        found.update(_describe_batch(client, ids[start : start + DESCRIBE_BATCH]))
    return {ami: data for ami, data in found.items() if data.get("State") != "deregistered"}


def _describe_batch(client: Any, ids: list[str]) -> dict[str, Data]:
    """One batch; an id EC2 says is gone is dropped and the rest asked again (one by one if unnamed)."""
    remaining = list(ids)
    while remaining:
        try:
            return _describe(client, remaining)
        except Exception as exc:  # an error answer (ClientError) has a code
            if error_code(exc) not in AMI_GONE:
                raise
            named = set(_AMI_ID.findall(error_message(exc))) & set(remaining)
            if not named:
                return _describe_one_by_one(client, remaining)
            remaining = [ami for ami in remaining if ami not in named]
    return {}


def _describe_one_by_one(client: Any, ids: list[str]) -> dict[str, Data]:
    found: dict[str, Data] = {}
    for ami in ids:
        try:
            found.update(_describe(client, [ami]))
        except Exception as exc:  # an error answer (ClientError) has a code
            if error_code(exc) not in AMI_GONE:
                raise
    return found


def _describe(client: Any, ids: list[str]) -> dict[str, Data]:
    pages = client.get_paginator("describe_images").paginate(ImageIds=ids, IncludeDeprecated=True,
                                                             IncludeDisabled=True)  # fmt: skip
    return {image["ImageId"]: image for page in pages for image in page.get("Images", [])}


def _ec2_fields(client: Any, data: Data, region: str) -> Data | None:
    """The ``Ami`` fields of a DescribeImages entry and its launch permissions; None if it is gone."""
    ami = data["ImageId"]
    with aws_errors(f"EC2 DescribeImageAttribute {ami} in {region}"):
        permissions = launch_permissions(client, ami)
    if permissions is None:
        return None
    last = data.get("LastLaunchedTime")
    return {
        "public": bool(data.get("Public")) or any(p.get("Group") == "all" for p in permissions),
        "shared_accounts": sorted({p["UserId"] for p in permissions if p.get("UserId")}),
        "last_launched": parse_time(last, f"{ami}: LastLaunchedTime") if last else None,
        "tags": {tag["Key"]: tag.get("Value", "") for tag in data.get("Tags") or []},
        "snapshots": _snapshots(data),
    }


def _snapshots(data: Data) -> list[str]:
    """The EBS snapshots of an AMI's block devices."""
    mappings = data.get("BlockDeviceMappings") or []
    return [m["Ebs"]["SnapshotId"] for m in mappings if (m.get("Ebs") or {}).get("SnapshotId")]


def launch_permissions(client: Any, ami: str) -> list[Data] | None:
    """The ``launchPermission`` entries of an AMI (Group, UserId, OrganizationArn, ...); None if it is gone."""
    try:
        response = client.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    except Exception as exc:  # an error answer (ClientError) has a code
        if error_code(exc) in AMI_GONE:
            return None
        raise
    permissions: list[Data] = response.get("LaunchPermissions") or []
    return permissions
