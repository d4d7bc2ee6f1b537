"""The loopback Image Builder endpoint, through boto3's real client over real HTTP."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.session import get_session  # type: ignore[import-untyped]

from policyengine.inventory import load_inventory
from policyengine.servicemodel import service_model, validate
from policyengine.testing import ImageBuilderEndpoint
from policyengine.testing.endpoint import FILTERS, OPERATIONS, operation_table

from .conftest import ROOT

INVENTORY = ROOT / "rules" / "inventory.json"
PREFIX = "arn:aws:imagebuilder:us-east-1:123456789012:image"
AL2023 = f"{PREFIX}/golden-al2023"
AGENT = "arn:aws:imagebuilder:eu-west-1:123456789012:image/build-agent/2.3.0/1"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[ImageBuilderEndpoint]:
    with ImageBuilderEndpoint(INVENTORY, max_page_size=2) as running:
        yield running


@pytest.fixture(scope="module")
def client(endpoint: ImageBuilderEndpoint) -> Any:
    return endpoint.client(region="us-east-1")


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_get_image_of_an_ami_build(endpoint: ImageBuilderEndpoint, client: Any) -> None:
    arn = f"{AL2023}/1.0.0/1"
    response = client.get_image(imageBuildVersionArn=arn)
    assert validate(body(response), "GetImageResponse") == []
    image = response["image"]
    assert {k: image[k] for k in ("arn", "name", "type", "version", "platform", "state", "dateCreated", "tags")} == {
        "arn": arn, "name": "golden-al2023", "type": "AMI", "version": "1.0.0/1", "platform": "Linux",
        "state": {"status": "AVAILABLE"}, "dateCreated": "2026-01-05T08:00:00.000Z", "tags": {"team": "platform"},
    }  # fmt: skip
    amis = image["outputResources"]["amis"]
    assert [(a["region"], a["image"], a["accountId"]) for a in amis] == [
        ("us-east-1", "ami-0000000000000001", "123456789012"),
        ("eu-west-1", "ami-0000000000000002", "123456789012"),
    ]
    assert all(a["name"] and a["description"] for a in amis)
    assert "containers" not in image["outputResources"]
    assert response["latestVersionReferences"]["latestMinorVersionArn"] == f"{AL2023}/1.0.x"
    assert response["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert endpoint.requests[-1] == ("GetImage", {"imageBuildVersionArn": arn})


def test_get_image_of_a_container_build(endpoint: ImageBuilderEndpoint) -> None:
    image = endpoint.client(region="eu-west-1").get_image(imageBuildVersionArn=AGENT)["image"]
    assert (image["type"], image["version"], image["name"]) == ("DOCKER", "2.3.0/1", "build-agent")
    assert image["outputResources"] == {
        "containers": [
            {"region": "eu-west-1", "imageUris": ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/build-agent:2.3.0-1"]},
            {"region": "us-east-1", "imageUris": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/build-agent:2.3.0-1"]},
        ]
    }


@pytest.mark.parametrize(
    "arn",
    [f"{AL2023}/9.9.9/1", AGENT],  # unknown; known, but in another region than the client's
    ids=["unknown", "other-region"],
)
def test_an_image_that_does_not_exist_is_the_modelled_error(client: Any, arn: str) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_image(imageBuildVersionArn=arn)
    code, status, message = error_of(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert arn in message


def test_a_malformed_arn_is_refused(endpoint: ImageBuilderEndpoint, client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestException) as excinfo:
        client.get_image(imageBuildVersionArn="arn:aws:imagebuilder:us-east-1:123456789012:image/Golden/1.0")
    code, status, message = error_of(excinfo)
    assert (code, status) == ("InvalidRequestException", 400)
    assert "imageBuildVersionArn" in message and "pattern" in message
    assert endpoint.requests[-1][0] == "GetImage"


def test_version_and_wildcard_arns_resolve_to_the_latest_available_build(client: Any) -> None:
    latest = {arn: client.get_image(imageBuildVersionArn=arn)["image"]["arn"] for arn in
              (f"{AL2023}/1.0.0", f"{AL2023}/1.x.x", f"{AL2023}/x.x.x")}  # fmt: skip
    # 1.2.1/1 is newer but FAILED, so it does not resolve
    assert latest == {f"{AL2023}/1.0.0": f"{AL2023}/1.0.0/3", f"{AL2023}/1.x.x": f"{AL2023}/1.2.0/1",
                      f"{AL2023}/x.x.x": f"{AL2023}/1.2.0/1"}  # fmt: skip
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.get_image(imageBuildVersionArn=f"{AL2023}/1.x.0")


def paginate(client: Any, operation: str, **params: Any) -> list[dict[str, Any]]:
    return list(client.get_paginator(operation).paginate(**params))


def test_the_paginator_gets_every_build_across_short_pages(endpoint: ImageBuilderEndpoint, client: Any) -> None:
    before = len(endpoint.requests)
    pages = paginate(client, "list_image_build_versions", imageVersionArn=f"{AL2023}/1.0.0",
                     PaginationConfig={"PageSize": 100})  # fmt: skip
    assert len(pages) > 1 and all(len(page["imageSummaryList"]) <= 2 for page in pages)
    summaries = [s for page in pages for s in page["imageSummaryList"]]
    assert sorted(s["arn"] for s in summaries) == [f"{AL2023}/1.0.0/{n}" for n in (1, 2, 3)]
    assert all(validate(body(page), "ListImageBuildVersionsResponse") == [] for page in pages)
    assert {s["owner"] for s in summaries} == {"123456789012"}
    sent = endpoint.requests[before:]
    assert [op for op, _ in sent] == ["ListImageBuildVersions"] * len(pages)
    assert "nextToken" not in sent[0][1] and all("nextToken" in params for _, params in sent[1:])
    assert all(params["maxResults"] == 100 for _, params in sent)


def test_max_results_is_honoured_and_lists_every_build_of_the_region() -> None:
    with ImageBuilderEndpoint(load_inventory(str(INVENTORY))) as endpoint:
        client = endpoint.client(region="us-east-1")
        pages = paginate(client, "list_image_build_versions", PaginationConfig={"PageSize": 4})
        arns = [s["arn"] for page in pages for s in page["imageSummaryList"]]
    assert [len(page["imageSummaryList"]) for page in pages] == [4, 4, 1]
    assert sorted(arns) == sorted(i.arn for i in endpoint.inventory.images if ":us-east-1:" in i.arn)


def test_the_order_is_neither_chronological_nor_by_version(client: Any) -> None:
    summaries = [s for page in paginate(client, "list_image_build_versions") for s in page["imageSummaryList"]]
    assert len(summaries) == 9
    assert summaries != sorted(summaries, key=lambda s: s["dateCreated"])
    assert summaries != sorted(summaries, key=lambda s: [int(n) for n in re.split(r"[./]", s["version"])])


def arns_for(client: Any, *filters: dict[str, Any]) -> list[str]:
    pages = paginate(client, "list_image_build_versions", filters=list(filters))
    return sorted(s["arn"] for page in pages for s in page["imageSummaryList"])


def test_filters(endpoint: ImageBuilderEndpoint, client: Any) -> None:
    assert arns_for(client, {"name": "name", "values": ["golden-al2"]}) == [f"{PREFIX}/golden-al2/0.9.0/1",
                                                                           f"{PREFIX}/golden-al2/0.9.0/2"]  # fmt: skip
    assert len(arns_for(client, {"name": "name", "values": ["golden*"]})) == 9
    linux_al2023 = arns_for(client, {"name": "name", "values": ["*al2023*"]}, {"name": "platform", "values": ["Linux"]})
    assert len(linux_al2023) == 7
    assert arns_for(client, {"name": "version", "values": ["1.1.0", "1.2.0/1"]}) == [
        f"{AL2023}/1.1.0/1", f"{AL2023}/1.1.0/2", f"{AL2023}/1.2.0/1"
    ]  # fmt: skip
    assert arns_for(client, {"name": "osVersion", "values": ["Amazon Linux 2023"]}) == []
    eu = endpoint.client(region="eu-west-1")
    assert arns_for(eu, {"name": "type", "values": ["DOCKER"]}) == [AGENT, AGENT.replace("2.3.0", "2.4.0")]
    for bad in ({"name": "colour", "values": ["blue"]}, {"name": "type", "values": ["AM*"]}):
        with pytest.raises(client.exceptions.InvalidRequestException):
            arns_for(client, bad)


def test_an_unknown_version_lists_nothing_and_a_foreign_token_is_refused(client: Any) -> None:
    assert paginate(client, "list_image_build_versions", imageVersionArn=f"{AL2023}/7.0.0")[0]["imageSummaryList"] == []
    first = client.list_image_build_versions(imageVersionArn=f"{AL2023}/1.0.0")
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):  # a token of another query
        client.list_image_build_versions(imageVersionArn=f"{AL2023}/1.1.0", nextToken=first["nextToken"])
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):
        client.list_image_build_versions(nextToken="not-a-token")


def test_list_images(client: Any) -> None:
    pages = paginate(client, "list_images")
    versions = sorted(v["arn"] for page in pages for v in page["imageVersionList"])
    assert versions == [f"{PREFIX}/golden-al2/0.9.0"] + [f"{AL2023}/{v}" for v in ("1.0.0", "1.1.0", "1.2.0", "1.2.1")]
    assert all(validate(body(page), "ListImagesResponse") == [] for page in pages)
    by_name = paginate(client, "list_images", byName=True)
    assert sorted(v["version"] for page in by_name for v in page["imageVersionList"]) == ["0.9.0", "1.2.1"]


def test_requests_are_signed_and_unsigned_ones_refused(endpoint: ImageBuilderEndpoint, client: Any) -> None:
    client.get_image(imageBuildVersionArn=f"{AL2023}/1.0.0/2")
    authorization = endpoint.received[-1].headers["authorization"]
    assert re.match(r"AWS4-HMAC-SHA256 Credential=\w+/\d{8}/us-east-1/imagebuilder/aws4_request, ", authorization)
    unsigned = urllib.request.Request(f"{endpoint.url}/GetImage?imageBuildVersionArn={AL2023}/1.0.0/2")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(unsigned, timeout=5)
    refusal = (excinfo.value.code, excinfo.value.headers["x-amzn-ErrorType"])
    assert refusal == (403, "MissingAuthenticationTokenException")


def test_the_endpoint_shuts_down_after_the_with_block() -> None:
    with ImageBuilderEndpoint(INVENTORY) as endpoint:
        endpoint.client().get_image(imageBuildVersionArn=f"{AL2023}/1.0.0/1")  # leaves a kept-alive connection
        host, port = endpoint.url.removeprefix("http://").split(":")
        started = time.monotonic()
    assert time.monotonic() - started < 1
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port)), timeout=1):
        pass
    with pytest.raises(RuntimeError):
        _ = endpoint.url


def test_routes_and_filters_agree_with_botocore() -> None:
    model = get_session().get_service_model("imagebuilder")
    for (method, path), operation in operation_table(OPERATIONS).items():
        http = model.operation_model(operation.name).http
        assert (http["method"], http["requestUri"]) == (method, path)
    for name in ("ListImageBuildVersions", "ListImages"):
        doc = service_model()["shapes"][f"{name}Request"]["members"]["filters"]["documentation"]
        assert sorted(re.findall(r"<code>(\w+)</code>", doc)) == sorted(FILTERS)


def test_importing_does_not_import_boto3() -> None:
    code = ("import sys; from policyengine.testing import ImageBuilderEndpoint; "
            "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_main_serves_until_stopped(stop: signal.Signals) -> None:
    command = [sys.executable, "-m", "policyengine.testing.endpoint", "--inventory", str(INVENTORY), "--quiet"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert url is not None
        with pytest.raises(urllib.error.HTTPError) as excinfo:  # serving: an unsigned request is answered 403
            urllib.request.urlopen(f"{url.group()}/ListImages", data=b"{}", timeout=5)
        assert excinfo.value.code == 403
        process.send_signal(stop)
        assert process.wait(timeout=5) == 0
        assert process.stderr is not None and "Warning" not in process.stderr.read()
