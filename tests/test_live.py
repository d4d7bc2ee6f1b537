"""Reading AWS live: real boto3 against the loopback Image Builder endpoint, and moto for EC2.

moto's ``mock_aws`` patches botocore in-process but passes through requests to other hosts, so the
Image Builder client reaches the loopback endpoint on 127.0.0.1 over real HTTP while EC2 calls go
to moto. ``AWS_ENDPOINT_URL_EC2`` is tested end to end with a loopback forwarder: the EC2 client
sends real HTTP to it, and it hands each request on to moto (through ``requests``, which moto also
intercepts). Cases moto cannot produce (``LastLaunchedTime``, InvalidAMIID errors) use botocore's
Stubber.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from botocore.stub import Stubber  # type: ignore[import-untyped]
from moto import mock_aws

from policyengine import aws as aws_module
from policyengine.aws import Aws, AwsSettings
from policyengine.errors import PolicyEngineError
from policyengine.inventory import Ami, Container, Image, Inventory
from policyengine.live import describe_images, ec2_details, list_images, read_inventory
from policyengine.testing import ImageBuilderEndpoint

from .conftest import isolate

ACCOUNT = "123456789012"  # moto's default account
OTHER = "111122223333"
ORG = "arn:aws:organizations::123456789012:organization/o-abc123defg"
PREFIX = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image"
GOLDEN = f"{PREFIX}/golden"
EU_GOLDEN = f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:image/golden-eu/1.0.0/1"
AGENT = f"{PREFIX}/agent/2.0.0/1"
MISSING = "ami-0123456789abcdef0"  # listed by Image Builder, unknown to EC2
UNKNOWN = f"{GOLDEN}/9.9.9/1"  # unknown to Image Builder
BASE_AMI = "ami-0b0b0b0b0b0b0b0b0"  # moto launches instances from any AMI id


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


# --- The world: AMIs in moto's EC2, an inventory of builds that use them, the loopback endpoint ------


@dataclass
class World:
    endpoint: ImageBuilderEndpoint
    amis: dict[str, str]  # role -> AMI id
    snapshots: dict[str, list[str]]  # AMI id -> its snapshots, as EC2 describes them


def make_ami(ec2: Any, name: str, tags: dict[str, str]) -> str:
    """An AMI created from an instance (so that it has a snapshot), tagged."""
    instance = ec2.run_instances(ImageId=BASE_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ami: str = ec2.create_image(InstanceId=instance, Name=f"golden-{name}")["ImageId"]
    ec2.create_tags(Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return ami


def build(arn: str, created: str, amis: list[Ami] | None = None, status: str = "AVAILABLE", **more: Any) -> Image:
    name, version = re.fullmatch(r".*:image/([^/]+)/(.+)", arn).groups()  # type: ignore[union-attr]
    return Image(arn=arn, name=name, version=version, type=more.pop("type", "AMI"), status=status,
                 created=datetime.fromisoformat(created), amis=amis or [], **more)  # fmt: skip


def served_inventory(amis: dict[str, str]) -> Inventory:
    def ami(role: str, region: str = "us-east-1") -> Ami:
        return Ami(id=amis[role], region=region, account=ACCOUNT)

    uri = f"{ACCOUNT}.dkr.ecr.{{}}.amazonaws.com/agent:2.0.0-1"
    return Inventory(images=[
        build(f"{GOLDEN}/1.0.0/1", "2026-01-05T08:00:00+00:00", [ami("public"), ami("eu", "eu-west-1")],
              tags={"team": "platform"}),
        build(f"{GOLDEN}/1.0.0/2", "2026-02-01T08:00:00.250+00:00",
              [ami("shared"), Ami(id=MISSING, region="us-east-1", account=ACCOUNT)]),
        build(f"{GOLDEN}/1.1.0/1", "2026-03-01T00:00:00+00:00", [ami("private")], status="DEPRECATED"),
        build(f"{GOLDEN}/1.1.0/2", "2026-03-02T00:00:00+00:00", status="FAILED"),
        build(AGENT, "2026-04-01T00:00:00+00:00", type="DOCKER",
              containers=[Container(uri=uri.format("us-east-1"), region="us-east-1"),
                          Container(uri=uri.format("eu-west-1"), region="eu-west-1")]),
        build(EU_GOLDEN, "2026-05-01T00:00:00+00:00", [ami("eu2", "eu-west-1")]),
    ])  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Shared by the module's tests, which only read; each looks at the endpoint's requests it made."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        isolate(monkeypatch, tmp_path_factory.mktemp("aws"))
        monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # loading moto's catalogue of AMIs takes seconds
        east = _boto_ec2("us-east-1")
        west = _boto_ec2("eu-west-1")
        amis = {
            "public": make_ami(east, "public", {"CreatedBy": "EC2 Image Builder", "env": "prod"}),
            "shared": make_ami(east, "shared", {"CreatedBy": "EC2 Image Builder"}),
            "private": make_ami(east, "private", {}),
            "eu": make_ami(west, "eu", {"CreatedBy": "EC2 Image Builder", "region": "eu"}),
            "eu2": make_ami(west, "eu2", {}),
        }
        east.modify_image_attribute(ImageId=amis["public"], LaunchPermission={"Add": [{"Group": "all"}]})
        shares = [{"UserId": OTHER}, {"OrganizationArn": ORG}]
        east.modify_image_attribute(ImageId=amis["shared"], LaunchPermission={"Add": shares})
        regions = {east: ["public", "shared", "private"], west: ["eu", "eu2"]}
        snapshots = {
            image["ImageId"]: [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
            for client, roles in regions.items()
            for image in client.describe_images(ImageIds=[amis[role] for role in roles])["Images"]
        }
        assert all(snapshots.values()) and len(snapshots) == len(amis)
        with ImageBuilderEndpoint(served_inventory(amis), max_page_size=1) as endpoint:
            yield World(endpoint, amis, snapshots)


def _boto_ec2(region: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client("ec2", region_name=region)


class Forwarder(ThreadingHTTPServer):
    """A loopback EC2 endpoint that hands each request on to moto; ``seen`` lists (region, Action)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Forwarder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/ec2/", self.headers["Authorization"])
        assert scope is not None
        region = scope.group(1)
        self.server.seen.append((region, parse_qs(body.decode())["Action"][0]))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        reply = requests.post(f"https://ec2.{region}.amazonaws.com/", data=body, headers=headers, timeout=10)
        self.send_response(reply.status_code)
        self.send_header("Content-Type", reply.headers.get("Content-Type", "text/xml"))
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    server = Forwarder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def aws_for(world: World, region: str = "us-east-1") -> Aws:
    return Aws(AwsSettings(region=region, endpoint_url=world.endpoint.url))


# --- list_images ---------------------------------------------------------------------------------


def test_list_images_finds_every_build_through_the_paginators(world: World) -> None:
    before = len(world.endpoint.requests)
    images = list_images(aws_for(world))
    expected = sorted((i for i in world.endpoint.inventory.images if ":us-east-1:" in i.arn), key=lambda i: i.arn)
    assert images == expected  # the AMIs with Image Builder's data only; dateCreated parsed, containers split
    assert images[2].created == datetime(2026, 2, 1, 8, 0, 0, 250000, tzinfo=UTC)
    sent = world.endpoint.requests[before:]
    lists = [params for op, params in sent if op == "ListImages"]
    assert len(lists) == 3 and all(p["owner"] == "Self" and p["includeDeprecated"] for p in lists)
    assert "nextToken" not in lists[0] and all("nextToken" in p for p in lists[1:])  # pages of one
    builds = [params["imageVersionArn"] for op, params in sent if op == "ListImageBuildVersions"]
    assert sorted(builds) == [f"{PREFIX}/agent/2.0.0", *[f"{GOLDEN}/{v}" for v in ("1.0.0", "1.0.0", "1.1.0", "1.1.0")]]


def test_list_images_lists_the_given_region(world: World) -> None:
    assert [i.arn for i in list_images(aws_for(world), "eu-west-1")] == [EU_GOLDEN]
    assert [i.arn for i in list_images(aws_for(world, "eu-west-1"))] == [EU_GOLDEN]


def test_aws_endpoint_url_imagebuilder_is_honoured(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_IMAGEBUILDER", world.endpoint.url)
    assert [i.arn for i in list_images(Aws(AwsSettings(region="eu-west-1")))] == [EU_GOLDEN]


# --- read_inventory ------------------------------------------------------------------------------


@pytest.mark.parametrize("via_env", [False, True], ids=["moto", "AWS_ENDPOINT_URL_EC2"])
def test_read_inventory(world: World, forwarder: Forwarder, monkeypatch: pytest.MonkeyPatch, via_env: bool) -> None:
    if via_env:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", forwarder.url)
    targets = [f"{GOLDEN}/1.0.0/1", f"{GOLDEN}/1.0.0/2", UNKNOWN, EU_GOLDEN, f"{GOLDEN}/1.0.0/1"]
    before = len(world.endpoint.requests)
    inventory, not_found = read_inventory(aws_for(world), targets)

    assert list(not_found) == [UNKNOWN] and UNKNOWN in not_found[UNKNOWN]
    assert [i.arn for i in inventory.images] == [f"{GOLDEN}/1.0.0/1", f"{GOLDEN}/1.0.0/2", EU_GOLDEN]
    first = inventory.by_arn()[f"{GOLDEN}/1.0.0/1"]
    assert (first.name, first.version, first.type, first.status, first.tags) == (
        "golden", "1.0.0/1", "AMI", "AVAILABLE", {"team": "platform"})  # fmt: skip
    assert first.created == datetime(2026, 1, 5, 8, tzinfo=UTC)
    amis = {ami.id: ami for image in inventory.images for ami in image.amis}
    ids, snaps = world.amis, world.snapshots
    assert amis[ids["public"]] == Ami(id=ids["public"], region="us-east-1", account=ACCOUNT, public=True,
                                      tags={"CreatedBy": "EC2 Image Builder", "env": "prod"},
                                      snapshots=snaps[ids["public"]])  # fmt: skip
    assert amis[ids["shared"]] == Ami(id=ids["shared"], region="us-east-1", account=ACCOUNT, public=False,
                                      shared_accounts=[OTHER], tags={"CreatedBy": "EC2 Image Builder"},
                                      snapshots=snaps[ids["shared"]])  # fmt: skip
    assert amis[ids["eu"]] == Ami(id=ids["eu"], region="eu-west-1", account=ACCOUNT,
                                  tags={"CreatedBy": "EC2 Image Builder", "region": "eu"},
                                  snapshots=snaps[ids["eu"]])  # fmt: skip
    assert amis[ids["eu2"]].snapshots == snaps[ids["eu2"]] and not amis[ids["eu2"]].missing
    assert amis[MISSING] == Ami(id=MISSING, region="us-east-1", account=ACCOUNT, missing=True)
    assert Inventory.model_validate(inventory.model_dump()) == inventory

    gets = [params["imageBuildVersionArn"] for op, params in world.endpoint.requests[before:] if op == "GetImage"]
    assert gets == targets[:4]  # once each
    if via_env:  # every EC2 call went to AWS_ENDPOINT_URL_EC2, in the AMI's region
        calls = [(region, action) for region in ("eu-west-1", "us-east-1")
                 for action in ("DescribeImageAttribute", "DescribeImages")]  # fmt: skip
        assert sorted(set(forwarder.seen)) == calls
        assert len(forwarder.seen) == 2 + 4  # one DescribeImages per region; one attribute per AMI EC2 has
    else:
        assert forwarder.seen == []


def test_a_version_arn_resolves_to_its_latest_build(world: World) -> None:
    inventory, not_found = read_inventory(aws_for(world), [f"{GOLDEN}/1.0.x", f"{GOLDEN}/1.0.0/2"])
    assert not not_found and [i.arn for i in inventory.images] == [f"{GOLDEN}/1.0.0/2"]


def test_other_image_builder_errors_name_the_arn(world: World) -> None:
    bad = f"{PREFIX}/Golden/1.0"
    with pytest.raises(PolicyEngineError, match=re.escape(bad) + r".*InvalidRequestException"):
        read_inventory(aws_for(world), [bad])
    with pytest.raises(PolicyEngineError, match="not an Image Builder image ARN"):
        read_inventory(aws_for(world), ["arn:aws:ec2:us-east-1::image/ami-0abc"])


# --- EC2 edge cases, stubbed ---------------------------------------------------------------------

A, B, C = "ami-0000000000000a", "ami-0000000000000b", "ami-0000000000000c"


def described(*ids: str) -> tuple[str, dict[str, Any]]:
    return "describe_images", {"ImageIds": list(ids), "IncludeDeprecated": True, "IncludeDisabled": True}


@pytest.fixture(scope="module")
def stub_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path_factory.mktemp("aws"))
        aws = Aws(AwsSettings(region="us-east-1"))
        aws.client("ec2")
        yield aws


@pytest.fixture
def stubbed(stub_aws: Aws) -> Iterator[tuple[Aws, Stubber]]:
    with Stubber(stub_aws.client("ec2")) as stub:  # the cached client that live.py gets
        yield stub_aws, stub
        stub.assert_no_pending_responses()


def test_last_launched_group_all_and_organisations(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    image = {"ImageId": A, "LastLaunchedTime": "2026-03-02T10:00:00Z", "State": "disabled",
             "Tags": [{"Key": "CreatedBy", "Value": "EC2 Image Builder"}],
             "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-01"}},
                                     {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
                                     {"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-02"}}]}  # fmt: skip
    stub.add_response("describe_images", {"Images": [image]}, described(A)[1])
    unit = "arn:aws:organizations::123456789012:ou/o-abc123defg/ou-ab12-cdef3456"
    permissions = [{"Group": "all"}, {"UserId": OTHER}, {"OrganizationArn": ORG}, {"OrganizationalUnitArn": unit}]
    stub.add_response("describe_image_attribute", {"ImageId": A, "LaunchPermissions": permissions},
                      {"ImageId": A, "Attribute": "launchPermission"})  # fmt: skip
    assert ec2_details(aws, [("us-east-1", A)]) == {("us-east-1", A): {
        "public": True, "shared_accounts": [OTHER], "last_launched": datetime(2026, 3, 2, 10, tzinfo=UTC),
        "tags": {"CreatedBy": "EC2 Image Builder"}, "snapshots": ["snap-01", "snap-02"]}}  # fmt: skip


def test_ids_ec2_says_are_gone_are_dropped_and_the_rest_asked_again(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_client_error("describe_images", "InvalidAMIID.NotFound", f"The image id '[{B}]' does not exist",
                          expected_params=described(A, B, C)[1])  # fmt: skip
    stub.add_response("describe_images", {"Images": [{"ImageId": A}, {"ImageId": C}]}, described(A, C)[1])
    assert sorted(describe_images(aws.client("ec2"), [A, B, C])) == [A, C]


def test_when_the_error_names_no_id_each_is_asked_alone(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_client_error("describe_images", "InvalidAMIID.Unavailable", "gone", expected_params=described(A, B, C)[1])
    stub.add_response("describe_images", {"Images": [{"ImageId": A}]}, described(A)[1])
    stub.add_client_error("describe_images", "InvalidAMIID.NotFound", "gone", expected_params=described(B)[1])
    stub.add_response("describe_images", {"Images": [{"ImageId": C, "State": "deregistered"}]}, described(C)[1])
    assert list(describe_images(aws.client("ec2"), [A, B, C])) == [A]


def test_ids_go_in_batches_of_100(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    ids = [f"ami-{n:017x}" for n in range(150)]
    for batch in (ids[:100], ids[100:]):
        stub.add_response("describe_images", {"Images": [{"ImageId": i} for i in batch]}, described(*batch)[1])
    assert list(describe_images(aws.client("ec2"), ids)) == ids


def test_an_ami_gone_before_its_attribute_is_read_is_missing(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_response("describe_images", {"Images": [{"ImageId": A}]}, described(A)[1])
    stub.add_client_error("describe_image_attribute", "InvalidAMIID.NotFound", f"The image id '[{A}]' does not exist")
    assert ec2_details(aws, [("us-east-1", A)]) == {("us-east-1", A): None}


def test_other_ec2_errors_are_policyengine_errors(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_client_error("describe_images", "UnauthorizedOperation", "You are not authorized to do this.")
    with pytest.raises(PolicyEngineError, match=r"^EC2 DescribeImages in us-east-1: UnauthorizedOperation: You are"):
        ec2_details(aws, [("us-east-1", A)])


# --- Sessions, regions, endpoints, credentials ---------------------------------------------------


def test_no_credentials(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PolicyEngineError, match="no AWS credentials found") as excinfo:
        read_inventory(aws_for(world), [f"{GOLDEN}/1.0.0/1"])
    assert "\n" not in str(excinfo.value) and excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


@pytest.mark.parametrize("how", ["--profile", "AWS_PROFILE"])
def test_an_unknown_profile(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    settings = AwsSettings(region="us-east-1", profile="nope" if how == "--profile" else None)
    if how == "AWS_PROFILE":
        monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(PolicyEngineError, match="the AWS profile `nope` does not exist"):
        Aws(settings).client("ec2")


def test_a_profile_gives_region_and_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").write_text("[profile ops]\nregion = ap-southeast-2\n")
    (tmp_path / "credentials").write_text("[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = s\n")
    aws = Aws(AwsSettings(profile="ops"))
    assert aws.default_region == "ap-southeast-2"
    assert aws.session.get_credentials().access_key == "AKIAOPS"
    assert aws.client("ec2").meta.region_name == "ap-southeast-2"


def test_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PolicyEngineError, match=r"^no region: pass --region or set AWS_REGION$"):
        _ = Aws().default_region
    with pytest.raises(PolicyEngineError, match="no region"):
        list_images(Aws())
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert Aws().default_region == "eu-west-2"
    monkeypatch.setenv("AWS_REGION", "eu-west-3")  # the AWS CLI's variable, which botocore alone ignores
    assert Aws().default_region == "eu-west-3"
    assert Aws().client("imagebuilder").meta.region_name == "eu-west-3"
    assert Aws(AwsSettings(region="us-west-2")).default_region == "us-west-2"


def test_clients_are_cached_per_service_and_region_and_configured() -> None:
    aws = Aws(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    assert aws.client("ec2") is aws.client("ec2", "us-east-1") is not aws.client("ec2", "eu-west-1")
    client = aws.client("imagebuilder")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}  # botocore: 5 retries
    assert "policyengine" in client.meta.config.user_agent_extra


def test_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    aws = Aws(settings)  # --endpoint-url is for Image Builder only
    assert aws.client("imagebuilder").meta.endpoint_url == "http://127.0.0.1:9"
    assert aws.client("ec2").meta.endpoint_url == "https://ec2.eu-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:8")
    aws = Aws(settings)
    assert aws.client("imagebuilder").meta.endpoint_url == "http://127.0.0.1:9"  # the option wins
    assert aws.client("ec2").meta.endpoint_url == "http://127.0.0.1:8"
    assert Aws(AwsSettings(region="eu-west-1")).client("imagebuilder").meta.endpoint_url == "http://127.0.0.1:7"
    monkeypatch.delenv("AWS_ENDPOINT_URL_EC2")
    assert Aws(settings).client("ec2").meta.endpoint_url == "http://127.0.0.1:7"


def test_an_endpoint_that_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_module, "MAX_RETRIES", 0)  # no backoff between attempts
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once closed
    with pytest.raises(PolicyEngineError, match=r"^Image Builder ListImages in us-east-1: Could not connect") as exc:
        list_images(Aws(AwsSettings(region="us-east-1", endpoint_url=url)))
    assert url in str(exc.value) and "--endpoint-url" in str(exc.value)


def test_importing_does_not_import_boto3() -> None:
    import subprocess
    import sys

    code = "import sys, policyengine.live; print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- `policyengine plan` reading AWS live, through the command line ------------------------------


def test_plan_reads_aws_live(world: World, run: Any, tmp_path: Path) -> None:
    rules = tmp_path / "live.policy"
    rules.write_text(f"""
rule "golden" {{
  target ["{GOLDEN}/1.0.0/1", "{GOLDEN}/1.0.0/2", "{UNKNOWN}"]
  status deprecated
  role "LifecycleRole"
  include amis
  exclude amis when public or shared with ["{OTHER}"]
}}
rule "deprecated-builds" {{
  select images(name: "golden", status: "DEPRECATED")
  status disabled
}}
""")
    result = run("plan", "--endpoint-url", world.endpoint.url, "--region", "us-east-1",
                 "--now", "2026-12-04T00:00:00Z", "--format", "json", str(rules))  # fmt: skip
    assert result.code == 1, result.err  # the unknown target is refused (E420), the rest is planned
    assert f"{UNKNOWN} is not known" in result.err and "E420" in result.err
    plan = json.loads(result.out)
    verdicts = {(r["id"], r["verdict"]) for req in plan["requests"] for r in req["resources"] if r["type"] == "ami"}
    assert (world.amis["public"], "excluded") in verdicts and (world.amis["shared"], "excluded") in verdicts
    assert (world.amis["eu"], "update") in verdicts and (MISSING, "skipped") in verdicts
    selected = [r["request"]["resourceArn"] for r in plan["requests"] if r["rule"] == "deprecated-builds"]
    assert selected == [f"{GOLDEN}/1.1.0/1"]
    operations = {op for op, _ in world.endpoint.requests}
    assert {"GetImage", "ListImages", "ListImageBuildVersions"} <= operations
    assert not operations - {"GetImage", "ListImages", "ListImageBuildVersions"}  # strictly read-only
