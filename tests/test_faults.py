"""Faults injected into `policyengine apply` through the real HTTP stack, and a re-run after each.

The loopback endpoint serves each fault (answers cut off mid-body, answers slower than the
client's timeout, bodies that are not JSON) before or after the service acted; the disk filling
while the journal is written is a real file size limit (RLIMIT_FSIZE) on a real `policyengine`
process. Every scenario checks what the run reported, its exit status, that stderr has no
traceback, and, through the endpoint's own record of the client tokens it acted on, that a re-run
completes with every request acted on exactly once. Each scenario runs with FAULT_ROUNDS seeds.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError, ReadTimeoutError  # type: ignore[import-untyped]

from policyengine.aws import Aws, AwsSettings
from policyengine.dispatch import Dispatcher, Item, Policy
from policyengine.journal import Journal
from policyengine.testing import Faults, ImageBuilderEndpoint

from .conftest import FAULT_ROUNDS, Run, file_size_limit, isolate
from .test_apply import INVENTORY, NOW, REQUESTS, RULES, apply, outcomes

SEEDS = range(FAULT_ROUNDS)
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/{}"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("POLICYENGINE_PLUGINS_BLOCK", "prod_guard,semver")  # for the subprocesses too


def serve(seed: int, faults: Faults) -> ImageBuilderEndpoint:
    """A loopback endpoint with these faults, drawn from ``seed``."""
    return ImageBuilderEndpoint(INVENTORY, seed=seed, faults=faults, execution_seconds=0.05)


def send_all(run: Callable[..., Run], endpoint: ImageBuilderEndpoint, journal: Path, *args: str) -> Run:
    """`apply` the example rules, one request at a time (so the faults drawn follow the seed)."""
    return apply(run, endpoint, journal, "--auto-approve", "--allow-delete", "--concurrency", "1", "--rate", "100",
                 "--format", "json", *args, RULES)  # fmt: skip


def no_traceback(result: Run | subprocess.CompletedProcess[str]) -> None:
    err = result.err if isinstance(result, Run) else result.stderr
    assert "Traceback" not in err and "internal error" not in err, err


def acted_once_each(endpoint: ImageBuilderEndpoint) -> None:
    """The endpoint acted on every request of the rules, each client token exactly once."""
    tokens = Counter(params["clientToken"] for params in endpoint.accepted)
    assert len(tokens) == REQUESTS and set(tokens.values()) == {1}, tokens


def original_answers(result: Run, endpoint: ImageBuilderEndpoint) -> None:
    """Every accepted outcome carries the execution the service started for its token, if it started one."""
    acted = {params["clientToken"]: params for params in endpoint.accepted}
    for outcome in outcomes(result):
        params = acted[str(outcome["clientToken"])]
        starts_one = "includeResources" in params or "updateAt" in params
        assert bool(outcome.get("lifecycleExecutionId")) == starts_one, outcome


def reported(result: Run, fault: str) -> int:
    """How many HTTP attempts the outcomes say ran into ``fault``."""
    counts = [o.get("faults", {}) for o in outcomes(result)]
    return sum(int(count.get(fault, 0)) for count in counts if isinstance(count, dict))


def rerun_completes(run: Callable[..., Run], endpoint: ImageBuilderEndpoint, journal: Path) -> Run:
    """A re-run without faults completes, and nothing was acted on twice or lost."""
    endpoint.faults = Faults()
    again = send_all(run, endpoint, journal)
    assert again.code == 0, again.err
    no_traceback(again)
    assert {o["outcome"] for o in outcomes(again)} <= {"accepted", "skipped"}
    acted_once_each(endpoint)
    return again


def absorbed(result: Run, endpoint: ImageBuilderEndpoint) -> None:
    """The retries absorbed the faults: exit 0, every request accepted with its original answer."""
    assert result.code == 0, result.out + result.err
    no_traceback(result)
    assert [o["outcome"] for o in outcomes(result)] == ["accepted"] * REQUESTS
    acted_once_each(endpoint)
    original_answers(result, endpoint)


@pytest.mark.faults
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("seed", SEEDS)
def test_an_answer_cut_mid_body_is_retried_with_the_same_token(
    run: Callable[..., Run], tmp_path: Path, when: str, seed: int
) -> None:
    journal = tmp_path / "j.jsonl"
    with serve(seed, Faults(cut_rate=0.4, after_share=1.0 if when == "after" else 0.0)) as endpoint:
        result = send_all(run, endpoint, journal)
        absorbed(result, endpoint)
        cuts = endpoint.injected["cut"]
        assert cuts > 0 and reported(result, "IncompleteAnswer") == cuts  # each cut seen, none taken for an answer
        rerun_completes(run, endpoint, journal)


@pytest.mark.faults
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("seed", SEEDS)
def test_an_answer_slower_than_the_timeout_is_retried_without_acting_twice(
    run: Callable[..., Run], tmp_path: Path, when: str, seed: int
) -> None:
    journal = tmp_path / "j.jsonl"
    faults = Faults(slow_rate=0.3, slow_seconds=1.5, after_share=1.0 if when == "after" else 0.0)
    with serve(seed, faults) as endpoint:
        result = send_all(run, endpoint, journal, "--timeout", "0.5")
        absorbed(result, endpoint)
        slow = endpoint.injected["slow"]
        assert slow > 0 and reported(result, "ReadTimeoutError") >= slow  # each slow answer timed out
        sent = Counter(p["clientToken"] for op, p in endpoint.requests if op == "StartResourceStateUpdate")
        assert sum(sent.values()) > REQUESTS and set(sent) == {p["clientToken"] for p in endpoint.accepted}
        rerun_completes(run, endpoint, journal)


@pytest.mark.faults
@pytest.mark.parametrize("kind", ["html-200", "html-502", "truncated-json", "empty-200", "null-200", "html-br"])
@pytest.mark.parametrize("seed", SEEDS)
def test_an_answer_that_is_not_json_is_retried_with_the_same_token(
    run: Callable[..., Run], tmp_path: Path, kind: str, seed: int
) -> None:
    journal = tmp_path / "j.jsonl"
    with serve(seed, Faults(not_json_rate=0.4, not_json_kinds=(kind,))) as endpoint:  # half before acting, half after
        result = send_all(run, endpoint, journal)
        absorbed(result, endpoint)
        served = endpoint.injected["not_json"]
        assert served > 0 and reported(result, "NotJsonAnswer") == served
        rerun_completes(run, endpoint, journal)


EVERY_ATTEMPT = {  # the fault, the error code it ends in, words of the message
    "cut": (Faults(cut_rate=1.0), "IncompleteAnswer", "was cut short"),
    "slow": (Faults(slow_rate=1.0, slow_seconds=1.5), "ReadTimeoutError", "Read timeout on endpoint URL"),
    "html-502": (Faults(not_json_rate=1.0, not_json_kinds=("html-502",)), "NotJsonAnswer", "(HTTP 502, text/html)"),
    "truncated-json": (Faults(not_json_rate=1.0, not_json_kinds=("truncated-json",)), "NotJsonAnswer", "object: '{"),
}


@pytest.mark.faults
@pytest.mark.parametrize("fault", sorted(EVERY_ATTEMPT))
def test_a_fault_on_every_attempt_fails_with_a_clear_message_and_a_rerun_completes(tmp_path: Path, fault: str) -> None:
    """The dispatcher with a short policy (3 attempts, botocore retrying none): it gives up, says why, loses nothing."""
    faults, code, words = EVERY_ATTEMPT[fault]
    items = [Item("r", {"resourceArn": ARN.format(n), "state": {"status": "DEPRECATED"}, "clientToken": f"t{n}"})
             for n in (1, 2)]  # fmt: skip
    policy = Policy(max_attempts=3, base=0.01, botocore_retries=0, timeout=0.3)
    with serve(0, faults) as endpoint:
        aws = Aws(AwsSettings(region="us-east-1", endpoint_url=endpoint.url))
        journal = Journal(str(tmp_path / "j.jsonl"))
        journal.open()
        failed = Dispatcher(aws, journal, policy=policy, rate=100).run(items)
        assert [(o.outcome, o.error_code, o.attempts, o.faults) for o in failed] == [("failed", code, 3, {code: 3})] * 2
        assert all(words in str(o.error_message) and "retried with the same token" in str(o.error_message)
                   for o in failed)  # fmt: skip
        endpoint.faults = Faults()
        done = Dispatcher(aws, journal, policy=policy, rate=100).run(items)
        journal.close()
        assert [o.outcome for o in done] == ["accepted", "accepted"]
        assert sorted(p["clientToken"] for p in endpoint.accepted) == ["t1", "t2"]  # once each, whatever acted first


@pytest.mark.faults
@pytest.mark.parametrize("seed", SEEDS)
def test_every_fault_at_once_with_concurrency_loses_and_doubles_nothing(
    run: Callable[..., Run], tmp_path: Path, seed: int
) -> None:
    faults = Faults(rate_limit=30, burst=3, error_rate_before=0.05, error_rate_after=0.05, drop_rate=0.05,
                    cut_rate=0.1, not_json_rate=0.1, slow_rate=0.1, slow_seconds=1.5)  # fmt: skip
    journal = tmp_path / "j.jsonl"
    with serve(seed, faults) as endpoint:
        result = apply(run, endpoint, journal, "--auto-approve", "--allow-delete", "--concurrency", "4",
                       "--rate", "100", "--timeout", "0.5", "--format", "json", RULES)  # fmt: skip
        absorbed(result, endpoint)
        assert sum(endpoint.injected.values()) > 0
        rerun_completes(run, endpoint, journal)


@pytest.mark.faults
def test_the_faults_are_deterministic_given_the_seed_and_checked() -> None:
    faults = Faults(cut_rate=0.2, not_json_rate=0.3, slow_rate=0.2, slow_seconds=1.0)

    def served(seed: int) -> list[tuple[str, ...]]:
        """Which faults each of 12 requests met, and the client tokens acted on."""
        seen: list[tuple[str, ...]] = []
        with serve(seed, faults) as endpoint:
            client = endpoint.client(config=Config(retries={"total_max_attempts": 1}, read_timeout=0.15))
            for n in range(12):
                before = endpoint.injected
                with contextlib.suppress(ClientError, ReadTimeoutError):
                    client.start_resource_state_update(resourceArn=ARN.format(1 + n % 3), clientToken=f"t{n}",
                                                       state={"status": "DEPRECATED"})  # fmt: skip
                seen.append(tuple(kind for kind, count in endpoint.injected.items() if count > before[kind]))
            return [*seen, tuple(p["clientToken"] for p in endpoint.accepted)]

    first = served(3)
    assert first == served(3)
    assert {kind for kinds in first[:-1] for kind in kinds} == {"cut", "not_json", "slow"}
    for bad in ({"cut_rate": 0.6, "not_json_rate": 0.6}, {"not_json_kinds": ("xml",)}, {"not_json_kinds": ()},
                {"after_share": 1.5}, {"slow_seconds": -1}):  # fmt: skip
        with pytest.raises(ValueError):
            Faults(**bad)  # type: ignore[arg-type]


# --- The disk filling while the journal is written ---------------------------------------------


def command(endpoint: ImageBuilderEndpoint, journal: Path) -> list[str]:
    """`policyengine apply` of the example rules, as a process of its own, one request at a time."""
    return [str(Path(sys.executable).with_name("policyengine")), "apply", "--inventory", INVENTORY, "--now", NOW,
            "--endpoint-url", endpoint.url, "--region", "us-east-1", "--journal", str(journal), "--auto-approve",
            "--allow-delete", "--concurrency", "1", "--format", "json", RULES]  # fmt: skip


def journal_lines(run: Callable[..., Run], tmp_path: Path) -> list[bytes]:
    """The journal lines of a complete run (their sizes do not change from run to run)."""
    probe = tmp_path / "probe.jsonl"
    with serve(0, Faults()) as endpoint:
        assert send_all(run, endpoint, probe).code == 0
    return probe.read_bytes().splitlines(keepends=True)


@pytest.mark.faults
@pytest.mark.parametrize("record", ["start", "end"])
@pytest.mark.parametrize("seed", SEEDS)
def test_a_full_disk_stops_the_run_and_a_rerun_sends_each_request_once(
    run: Callable[..., Run], tmp_path: Path, record: str, seed: int
) -> None:
    lines = journal_lines(run, tmp_path)
    events = [json.loads(line)["event"] for line in lines]
    assert events == ["start", "end"] * REQUESTS  # one request at a time
    failing = 2 * (1 + seed % (REQUESTS - 2)) + (record == "end")  # the line that does not fit: not the first
    # Half a start line fits; an end line fits but for its newline, so the next (shorter) start would fit too.
    room = len(lines[failing]) - 1 if record == "end" else len(lines[failing]) // 2
    assert record == "start" or room > len(lines[failing + 1])
    limit = sum(len(line) for line in lines[:failing]) + room
    sent_before = failing // 2 + (record == "end")  # requests sent before the journal filled
    journal = tmp_path / "j.jsonl"
    with serve(seed, Faults()) as endpoint:
        first = subprocess.run(command(endpoint, journal), capture_output=True, text=True, timeout=120,
                               preexec_fn=file_size_limit(limit))  # fmt: skip
        assert first.returncode == 1, first.stderr
        no_traceback(first)
        assert f"cannot write the journal {journal}: File too large; the run stopped" in first.stderr
        results = json.loads(first.stdout)["outcomes"]
        assert [o["outcome"] for o in results[:sent_before]] == ["accepted"] * sent_before
        unsent = results[sent_before:]
        assert unsent and all(o["outcome"] == "failed" and o["error"]["code"] == "JournalUnwritable" for o in unsent)
        assert all(o["error"]["message"].startswith("not sent: cannot write the journal") for o in unsent)
        sent = [p["clientToken"] for op, p in endpoint.requests if op == "StartResourceStateUpdate"]
        assert sent == [o["clientToken"] for o in results[:sent_before]]  # nothing sent after the failing write
        if record == "end":  # acted on, not recorded: said so, and the re-run sends it again
            assert f"1 accepted but not recorded ({results[sent_before - 1]['clientToken']})" in first.stderr
        kept = journal.read_bytes().splitlines(keepends=True)
        assert [len(line) for line in kept] == [len(line) for line in lines[:failing]]  # whole lines, no half one
        assert all(line.endswith(b"\n") and json.loads(line) for line in kept)
        again = rerun_completes(run, endpoint, journal)  # the limit lifted
        journaled = sum(1 for line in lines[:failing] if json.loads(line)["event"] == "end")
        expected = ["skipped"] * journaled + ["accepted"] * (REQUESTS - journaled)
        assert [o["outcome"] for o in outcomes(again)] == expected
        received = Counter(p["clientToken"] for op, p in endpoint.requests if op == "StartResourceStateUpdate")
        resent = [token for token, n in received.items() if n > 1]
        assert resent == ([results[sent_before - 1]["clientToken"]] if record == "end" else [])  # and acted on once


@pytest.mark.faults
def test_a_journal_that_cannot_be_written_at_all_sends_nothing(tmp_path: Path) -> None:
    """The file size limit below the first record: the run sends nothing, says why, exits 1."""
    journal = tmp_path / "j.jsonl"
    with serve(0, Faults()) as endpoint:
        result = subprocess.run(command(endpoint, journal), capture_output=True, text=True, timeout=120,
                                preexec_fn=file_size_limit(10))  # fmt: skip
        assert result.returncode == 1 and endpoint.requests == []
        no_traceback(result)
        assert f"cannot write the journal {journal}: File too large; the run stopped: {REQUESTS} requests not sent" in (
            result.stderr
        )
        assert journal.read_bytes() == b""
