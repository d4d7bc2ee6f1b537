"""The loopback endpoint's write side and fault switches, through boto3's real client over real HTTP.

StartResourceStateUpdate (idempotent by client token), GetLifecycleExecution and
ListLifecycleExecutionResources; throttling, server errors before and after acting, dropped
connections and slow answers. No mocks: every call goes through botocore's serializer, signer,
retry handler and error parser to the endpoint's HTTP server.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError  # type: ignore[import-untyped]

from policyengine.servicemodel import validate
from policyengine.testing import Faults, ImageBuilderEndpoint
from policyengine.testing.endpoint import main

from .conftest import ROOT

INVENTORY = ROOT / "rules" / "inventory.json"
PREFIX = "arn:aws:imagebuilder:us-east-1:123456789012:image"
TWO_AMIS = f"{PREFIX}/golden-al2023/1.0.0/1"  # ami-...01 (us-east-1) and ami-...02 (eu-west-1)
SIX_AMIS = f"{PREFIX}/golden-al2023/1.0.0/3"  # ami-...04 to ami-...09; ami-...07 is in eu-west-1
OTHER = f"{PREFIX}/golden-al2023/1.1.0/1"
FAILED = f"{PREFIX}/golden-al2023/1.2.1/1"
AGENT = "arn:aws:imagebuilder:eu-west-1:123456789012:image/build-agent/2.3.0/1"
ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycleExecutionRole"
SINGLE = Config(retries={"mode": "standard", "total_max_attempts": 1})  # one attempt: see each answer
EXECUTION_ID = re.compile(r"^lce-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def endpoint() -> Iterator[ImageBuilderEndpoint]:
    with ImageBuilderEndpoint(INVENTORY, execution_seconds=0.3) as running:
        yield running


def request(token: str, arn: str = TWO_AMIS, status: str = "DEPRECATED", **extra: Any) -> dict[str, Any]:
    """A request that starts an execution (AMIs included, with the role they need)."""
    return {"resourceArn": arn, "state": {"status": status}, "executionRole": ROLE,
            "includeResources": {"amis": True}, "clientToken": token, **extra}  # fmt: skip


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def error_of(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def sent(endpoint: ImageBuilderEndpoint, token: str) -> int:
    """How many StartResourceStateUpdate requests with this client token the endpoint received."""
    return sum(1 for op, params in endpoint.requests
               if op == "StartResourceStateUpdate" and params.get("clientToken") == token)  # fmt: skip


def status_of(client: Any, arn: str) -> str:
    """The image's status, as GetImage answers it."""
    return str(client.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"])


def wait_until_done(client: Any, execution_id: str, timeout: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution: dict[str, Any] = client.get_lifecycle_execution(lifecycleExecutionId=execution_id)[
            "lifecycleExecution"
        ]
        if execution["state"]["status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return execution
        time.sleep(0.02)


# --- StartResourceStateUpdate ----------------------------------------------------------------------


def test_a_token_is_acted_on_once_and_a_replay_gets_the_original_answer(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    first = client.start_resource_state_update(**request("token-1"))
    assert validate(body(first), "StartResourceStateUpdateResponse") == []
    assert EXECUTION_ID.match(first["lifecycleExecutionId"]) and first["resourceArn"] == TWO_AMIS
    assert status_of(client, TWO_AMIS) == "DEPRECATED"
    assert {image.arn: image.status for image in endpoint.inventory.images}[TWO_AMIS] == "DEPRECATED"
    replay = client.start_resource_state_update(**request("token-1"))
    assert body(replay) == body(first)
    assert endpoint.accepted == [request("token-1")]
    assert endpoint.stats == {"throttled": 0, "errors": 0, "dropped": 0, "accepted": 1}
    assert sent(endpoint, "token-1") == 2


def test_concurrent_requests_with_one_token_act_once(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    answers: list[str] = []

    def send() -> None:
        answers.append(client.start_resource_state_update(**request("same"))["lifecycleExecutionId"])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and len(set(answers)) == 1
    assert len(endpoint.accepted) == 1


def test_an_execution_starts_only_for_included_resources_or_a_scheduled_update(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    immediate = client.start_resource_state_update(resourceArn=OTHER, state={"status": "DISABLED"}, clientToken="now")
    assert body(immediate) == {"resourceArn": OTHER}
    assert status_of(client, OTHER) == "DISABLED"
    later = datetime.now(UTC) + timedelta(days=30)
    scheduled = client.start_resource_state_update(resourceArn=TWO_AMIS, state={"status": "DEPRECATED"},
                                                   updateAt=later, clientToken="later")  # fmt: skip
    assert EXECUTION_ID.match(scheduled["lifecycleExecutionId"])
    assert abs(endpoint.accepted[1]["updateAt"] - later) < timedelta(milliseconds=1)


def test_the_same_token_with_other_parameters_is_a_mismatch(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    client.start_resource_state_update(**request("token-1"))
    with pytest.raises(client.exceptions.IdempotentParameterMismatchException) as excinfo:
        client.start_resource_state_update(**request("token-1", status="DISABLED"))
    assert error_of(excinfo.value) == ("IdempotentParameterMismatchException", 400)
    assert status_of(client, TWO_AMIS) == "DEPRECATED"
    assert len(endpoint.accepted) == 1


@pytest.mark.parametrize(
    ("arn", "region"),
    [(f"{PREFIX}/golden-al2023/9.9.9/1", "us-east-1"), (AGENT, "us-east-1")],
    ids=["unknown", "other-region"],
)
def test_a_target_that_is_not_served_in_the_region_is_not_found(
    endpoint: ImageBuilderEndpoint, arn: str, region: str
) -> None:
    client = endpoint.client(region=region)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.start_resource_state_update(resourceArn=arn, state={"status": "DELETED"}, executionRole=ROLE,
                                           includeResources={"containers": True}, clientToken="t")  # fmt: skip
    assert error_of(excinfo.value) == ("ResourceNotFoundException", 404)
    assert endpoint.accepted == []


PAST = datetime(2020, 1, 1, tzinfo=UTC)
INVALID_IDS = ["token-length", "arn-pattern", "status-enum", "role-without-include", "snapshots-not-deleted",
               "deleted-without-resources", "update-at-not-deprecated", "update-at-past", "failed-image"]  # fmt: skip
FUTURE = datetime.now(UTC) + timedelta(days=30)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        (request("x" * 65), "clientToken"),  # the model: at most 64 characters
        (request("t", arn=f"{PREFIX}/Golden/1.0.0/1"), "resourceArn"),  # the model's pattern
        ({**request("t"), "state": {"status": "RETIRED"}}, "RETIRED"),  # the model's enum
        ({k: v for k, v in request("t").items() if k != "executionRole"}, "executionRole"),
        (request("t", status="DISABLED", includeResources={"amis": True, "snapshots": True}), "snapshots"),
        (request("t", status="DELETED", includeResources={"amis": False}), "DELETED"),
        (request("t", status="DISABLED", updateAt=FUTURE), "updateAt"),
        (request("t", updateAt=PAST), "future"),
        (request("t", arn=FAILED), "FAILED"),
    ],
    ids=INVALID_IDS,
)
def test_invalid_requests_are_refused_without_acting(
    endpoint: ImageBuilderEndpoint, params: dict[str, Any], says: str
) -> None:
    client = endpoint.client()
    with pytest.raises(client.exceptions.InvalidRequestException) as excinfo:
        client.start_resource_state_update(**params)
    assert error_of(excinfo.value) == ("InvalidRequestException", 400)
    assert says in excinfo.value.response["Error"]["Message"]
    assert endpoint.accepted == []
    assert status_of(client, TWO_AMIS) == "AVAILABLE"


def test_an_image_with_an_execution_in_progress_is_in_use(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    first = client.start_resource_state_update(**request("first"))["lifecycleExecutionId"]
    for params in (request("second", status="DISABLED"),
                   {"resourceArn": TWO_AMIS, "state": {"status": "DISABLED"}, "clientToken": "third"}):  # fmt: skip
        with pytest.raises(client.exceptions.ResourceInUseException) as excinfo:
            client.start_resource_state_update(**params)
        assert error_of(excinfo.value) == ("ResourceInUseException", 400)
    assert client.start_resource_state_update(**request("first"))["lifecycleExecutionId"] == first  # the replay
    client.start_resource_state_update(**request("elsewhere", arn=OTHER))  # another image is not in use
    assert wait_until_done(client, first)["state"]["status"] == "SUCCESS"
    second = client.start_resource_state_update(**request("second", status="DISABLED"))["lifecycleExecutionId"]
    assert second != first
    assert [p["clientToken"] for p in endpoint.accepted] == ["first", "elsewhere", "second"]


# --- GetLifecycleExecution and ListLifecycleExecutionResources ------------------------------------


def test_an_execution_is_in_progress_then_succeeds(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    execution_id = client.start_resource_state_update(**request("t"))["lifecycleExecutionId"]
    running = client.get_lifecycle_execution(lifecycleExecutionId=execution_id)
    assert validate(body(running), "GetLifecycleExecutionResponse") == []
    execution = running["lifecycleExecution"]
    assert execution["lifecycleExecutionId"] == execution_id
    assert execution["state"] == {"status": "IN_PROGRESS"} and "endTime" not in execution
    assert execution["resourcesImpactedSummary"] == {"hasImpactedResources": True}
    listed = client.list_lifecycle_execution_resources(lifecycleExecutionId=execution_id, parentResourceId=TWO_AMIS)
    assert {r["state"]["status"] for r in listed["resources"]} == {"IN_PROGRESS"}
    done = wait_until_done(client, execution_id)
    assert done["state"] == {"status": "SUCCESS"}
    assert done["startTime"] == execution["startTime"]
    assert abs((done["endTime"] - done["startTime"]).total_seconds() - 0.3) < 0.01


def test_unknown_and_malformed_execution_ids(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    execution_id = client.start_resource_state_update(**request("t"))["lifecycleExecutionId"]
    unknown = "lce-00000000-0000-4000-8000-000000000000"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_lifecycle_execution(lifecycleExecutionId=unknown)
    elsewhere = endpoint.client(region="eu-west-1")
    with pytest.raises(elsewhere.exceptions.ResourceNotFoundException):  # started in another region
        elsewhere.get_lifecycle_execution(lifecycleExecutionId=execution_id)
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.get_lifecycle_execution(lifecycleExecutionId="exec-1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_lifecycle_execution_resources(lifecycleExecutionId=unknown)


def test_execution_resources_are_listed_per_image_then_per_ami_a_page_at_a_time(endpoint: ImageBuilderEndpoint) -> None:
    client = endpoint.client()
    params = request("delete", arn=SIX_AMIS, status="DELETED", includeResources={"amis": True, "snapshots": True},
                     exclusionRules={"amis": {"regions": ["eu-west-1"]}})  # fmt: skip
    execution_id = client.start_resource_state_update(**params)["lifecycleExecutionId"]
    wait_until_done(client, execution_id)
    top = client.list_lifecycle_execution_resources(lifecycleExecutionId=execution_id)
    assert validate(body(top), "ListLifecycleExecutionResourcesResponse") == []
    assert top["lifecycleExecutionState"] == {"status": "SUCCESS"}
    [image] = top["resources"]
    assert (image["resourceId"], image["action"], image["state"]["status"]) == (SIX_AMIS, {"name": "DELETE"}, "SKIPPED")
    assert "ami-0000000000000007" in image["state"]["reason"]  # retained with the excluded AMI

    pages = list(client.get_paginator("list_lifecycle_execution_resources").paginate(
        lifecycleExecutionId=execution_id, parentResourceId=SIX_AMIS, PaginationConfig={"PageSize": 2}))  # fmt: skip
    assert [len(page["resources"]) for page in pages] == [2, 2, 2]
    assert all(validate(body(page), "ListLifecycleExecutionResourcesResponse") == [] for page in pages)
    amis = {r["resourceId"]: r for page in pages for r in page["resources"]}
    assert sorted(amis) == [f"ami-000000000000000{n}" for n in range(4, 10)]
    assert {(r["region"], r["accountId"]) for r in amis.values()} >= {("us-east-1", "123456789012")}
    assert {r["action"]["name"] for r in amis.values()} == {"DELETE"}
    excluded = amis.pop("ami-0000000000000007")
    assert excluded["state"] == {"status": "SKIPPED", "reason": "region eu-west-1 is in regions"}
    assert excluded["snapshots"] == [{"snapshotId": "snap-00070000000000000", "state": {"status": "SKIPPED"}}]
    assert {r["state"]["status"] for r in amis.values()} == {"SUCCESS"}
    assert amis["ami-0000000000000004"]["snapshots"] == [
        {"snapshotId": "snap-00040000000000000", "state": {"status": "SUCCESS"}}
    ]
    assert status_of(client, SIX_AMIS) == "AVAILABLE"  # retained: an AMI was excluded
    assert client.list_lifecycle_execution_resources(lifecycleExecutionId=execution_id,
                                                     parentResourceId=OTHER)["resources"] == []  # fmt: skip


# --- Faults ----------------------------------------------------------------------------------------


def test_throttling_answers_the_modelled_429_which_standard_retries_do_not_retry() -> None:
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(rate_limit=0.5, burst=2)) as endpoint:
        client = endpoint.client(config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
        for token, arn in (("a", TWO_AMIS), ("b", OTHER)):
            client.start_resource_state_update(**request(token, arn=arn))
        with pytest.raises(client.exceptions.CallRateLimitExceededException) as excinfo:
            client.start_resource_state_update(**request("c", arn=SIX_AMIS))
        assert error_of(excinfo.value) == ("CallRateLimitExceededException", 429)
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 0
        assert sent(endpoint, "c") == 1  # not retried
        for _ in range(5):  # faults apply to StartResourceStateUpdate only
            client.get_image(imageBuildVersionArn=TWO_AMIS)
        assert status_of(client, SIX_AMIS) == "AVAILABLE"
        assert endpoint.stats == {"throttled": 1, "errors": 0, "dropped": 0, "accepted": 2}


def test_a_server_error_after_acting_and_a_retry_with_the_same_token_get_the_original_execution() -> None:
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(error_rate_after=1.0)) as endpoint:
        client = endpoint.client(config=SINGLE)
        with pytest.raises(ClientError) as excinfo:
            client.start_resource_state_update(**request("t"))
        assert error_of(excinfo.value) in {("ServiceException", 500), ("ServiceUnavailableException", 503)}
        assert status_of(client, TWO_AMIS) == "DEPRECATED"  # the service acted
        endpoint.faults = Faults()
        retried = time.time()
        execution_id = client.start_resource_state_update(**request("t"))["lifecycleExecutionId"]
        started = client.get_lifecycle_execution(lifecycleExecutionId=execution_id)["lifecycleExecution"]["startTime"]
        assert started.timestamp() < retried  # started by the first request, not by the retry
        assert len(endpoint.accepted) == 1
        assert endpoint.stats == {"throttled": 0, "errors": 1, "dropped": 0, "accepted": 1}


def test_a_server_error_before_acting_changes_nothing() -> None:
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(error_rate_before=1.0)) as endpoint:
        client = endpoint.client(config=SINGLE)
        codes = set()
        for n in range(6):
            with pytest.raises(ClientError) as excinfo:
                client.start_resource_state_update(**request(f"t{n}"))
            codes.add(error_of(excinfo.value))
        assert codes == {("ServiceException", 500), ("ServiceUnavailableException", 503)}  # both, for seed 0
        assert endpoint.accepted == [] and status_of(client, TWO_AMIS) == "AVAILABLE"
        assert endpoint.stats["errors"] == 6


def test_dropped_connections_surface_as_connection_errors_and_some_acted() -> None:
    tokens = [f"t{n}" for n in range(8)]
    arns = [f"{PREFIX}/golden-al2023/1.0.0/{n % 3 + 1}" for n in range(8)]
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(drop_rate=1.0), execution_seconds=0.0) as endpoint:
        client = endpoint.client(config=SINGLE)
        for token, arn in zip(tokens, arns, strict=True):
            with pytest.raises(ConnectionClosedError):
                client.start_resource_state_update(**request(token, arn=arn))
        acted = {params["clientToken"] for params in endpoint.accepted}
        assert 0 < len(acted) < len(tokens)  # half of the drops come after acting (seed 0: some of each)
        assert endpoint.stats["dropped"] == len(tokens)
        endpoint.faults = Faults()
        retried = time.time()
        for token, arn in zip(tokens, arns, strict=True):
            execution_id = client.start_resource_state_update(**request(token, arn=arn))["lifecycleExecutionId"]
            started = client.get_lifecycle_execution(lifecycleExecutionId=execution_id)["lifecycleExecution"]
            assert (started["startTime"].timestamp() < retried) == (token in acted)
        assert sorted(p["clientToken"] for p in endpoint.accepted) == tokens


def test_faults_are_deterministic_given_the_seed() -> None:
    def outcomes(seed: int) -> tuple[list[str], dict[str, int]]:
        faults = Faults(error_rate_before=0.2, error_rate_after=0.2, drop_rate=0.2)
        seen: list[str] = []
        with ImageBuilderEndpoint(INVENTORY, faults=faults, seed=seed, execution_seconds=0.0) as endpoint:
            client = endpoint.client(config=SINGLE)
            for n in range(12):
                try:
                    client.start_resource_state_update(**request(f"t{n}"))
                    seen.append("ok")
                except ClientError as exc:
                    seen.append(exc.response["Error"]["Code"])
                except ConnectionClosedError:
                    seen.append("dropped")
            return seen, endpoint.stats

    first = outcomes(7)
    assert first == outcomes(7)
    assert len(set(first[0])) > 2


def test_the_delay_is_honoured_and_a_timed_out_request_still_acted() -> None:
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(delay=0.3)) as endpoint:
        client = endpoint.client(config=SINGLE)
        started = time.monotonic()
        first = client.start_resource_state_update(**request("slow"))
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        client.get_image(imageBuildVersionArn=TWO_AMIS)  # faults apply to StartResourceStateUpdate only
        assert time.monotonic() - started < 0.3
        impatient = endpoint.client(config=SINGLE.merge(Config(read_timeout=0.1)))
        with pytest.raises(ReadTimeoutError):
            impatient.start_resource_state_update(**request("timed-out", arn=OTHER))
        assert [p["clientToken"] for p in endpoint.accepted] == ["slow", "timed-out"]
        assert client.start_resource_state_update(**request("slow")) | {"ResponseMetadata": None} == first | {
            "ResponseMetadata": None
        }


def test_max_attempts_in_a_client_config_counts_retries_not_attempts() -> None:
    """botocore reads ``Config(retries={"max_attempts": N})`` as N retries: N + 1 attempts in all."""
    with ImageBuilderEndpoint(INVENTORY, faults=Faults(error_rate_before=1.0)) as endpoint:
        client = endpoint.client(config=Config(retries={"mode": "standard", "max_attempts": 1}))
        with pytest.raises(ClientError) as excinfo:
            client.start_resource_state_update(**request("t"))
        assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 1
        assert sent(endpoint, "t") == 2 and endpoint.stats["errors"] == 2


def test_faults_can_be_widened_to_other_operations() -> None:
    faults = Faults(error_rate_before=1.0, fault_operations={"GetImage"})
    with ImageBuilderEndpoint(INVENTORY, faults=faults) as endpoint:
        client = endpoint.client(config=SINGLE)
        with pytest.raises(ClientError) as excinfo:
            client.get_image(imageBuildVersionArn=TWO_AMIS)
        assert error_of(excinfo.value)[1] in (500, 503)
        client.start_resource_state_update(**request("t"))
        assert endpoint.faults == faults and endpoint.stats["accepted"] == 1


BAD_FAULTS = [{"drop_rate": 1.5}, {"error_rate_before": 0.6, "error_rate_after": 0.6}, {"rate_limit": 0},
              {"burst": 0}, {"delay": -1}, {"fault_operations": {"DeleteImage"}}]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_FAULTS)
def test_faults_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults(**bad)


def test_main_refuses_bad_fault_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inventory", str(INVENTORY), "--drop-rate", "2", "--quiet"]) == 1
    assert "drop_rate" in capsys.readouterr().err


def test_main_serves_with_fault_flags() -> None:
    command = [sys.executable, "-m", "policyengine.testing.endpoint", "--inventory", str(INVENTORY), "--quiet",
               "--rate-limit", "0.5", "--burst", "1", "--delay", "0.05"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert url is not None
        import boto3  # type: ignore[import-untyped]

        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="AKIATEST",
                                        aws_secret_access_key="test")  # fmt: skip
        client = session.client("imagebuilder", endpoint_url=url.group(), config=SINGLE.merge(Config(proxies={})))
        client.start_resource_state_update(**request("a"))
        with pytest.raises(client.exceptions.CallRateLimitExceededException):
            client.start_resource_state_update(**request("b", arn=OTHER))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
