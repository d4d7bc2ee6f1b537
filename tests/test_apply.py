"""`policyengine apply` end to end over real HTTP against the loopback Image Builder endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from policyengine.testing import Faults, ImageBuilderEndpoint

from .conftest import ROOT, Run, isolate

INVENTORY = str(ROOT / "rules" / "inventory.json")
RULES = str(ROOT / "rules")
NOW = "2026-12-04T00:00:00Z"
REQUESTS = 9  # the example rules against the sample inventory


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def endpoint() -> Iterator[ImageBuilderEndpoint]:
    with ImageBuilderEndpoint(INVENTORY, execution_seconds=0.05) as served:
        yield served


def apply(run: Callable[..., Run], endpoint: ImageBuilderEndpoint, journal: Path, *args: str) -> Run:
    return run("apply", "--inventory", INVENTORY, "--now", NOW, "--endpoint-url", endpoint.url,
               "--region", "us-east-1", "--journal", str(journal), *args)  # fmt: skip


def outcomes(result: Run) -> list[dict[str, object]]:
    return json.loads(result.out)["outcomes"]  # type: ignore[no-any-return]


def test_every_request_is_accepted_and_a_second_run_skips_them(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    first = apply(run, endpoint, journal, "--auto-approve", "--allow-delete", "--format", "json", RULES)
    assert first.code == 0, first.err
    assert [o["outcome"] for o in outcomes(first)] == ["accepted"] * REQUESTS
    assert len(endpoint.accepted) == REQUESTS
    with_execution = [o for o in outcomes(first) if o.get("lifecycleExecutionId")]
    assert with_execution and all(str(o["lifecycleExecutionId"]).startswith("lce-") for o in with_execution)
    sent = len(endpoint.requests)
    second = apply(run, endpoint, journal, "--auto-approve", "--allow-delete", "--format", "json", RULES)
    assert second.code == 0 and [o["outcome"] for o in outcomes(second)] == ["skipped"] * REQUESTS
    assert len(endpoint.requests) == sent  # nothing sent again


def test_deleted_needs_allow_delete(run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path) -> None:
    result = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--format", "json", RULES)
    assert result.code == 1
    refused = [o for o in outcomes(result) if o["outcome"] == "refused"]
    assert len(refused) == 3 and all(o["error"]["code"] == "AllowDeleteRequired" for o in refused)  # type: ignore[index]
    assert all(r["state"]["status"] != "DELETED" for r in endpoint.accepted)


def test_nothing_is_sent_without_confirmation(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    result = apply(run, endpoint, tmp_path / "j.jsonl", RULES)  # stdin is not a terminal here
    assert result.code == 1 and "pass --auto-approve" in result.err
    assert endpoint.accepted == []


def test_every_fault_at_once_loses_and_doubles_nothing(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    endpoint.faults = Faults(rate_limit=20, burst=2, error_rate_before=0.15, error_rate_after=0.15, drop_rate=0.1,
                             delay=0.01)  # fmt: skip
    result = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--allow-delete", "--concurrency", "8",
                   "--rate", "100", "--format", "json", RULES)  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert [o["outcome"] for o in outcomes(result)] == ["accepted"] * REQUESTS
    tokens = Counter(r["clientToken"] for r in endpoint.accepted)
    assert len(tokens) == REQUESTS and set(tokens.values()) == {1}
    stats = endpoint.stats
    assert stats["throttled"] + stats["errors"] + stats["dropped"] > 0  # the faults did happen


def test_a_guard_refuses_and_hooks_and_notifiers_hear_every_outcome(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    heard = tmp_path / "heard.jsonl"
    guard = tmp_path / "guard.py"
    guard.write_text(
        "from policyengine import hookimpl, Refuse\n"
        "@hookimpl\n"
        "def before_request(request, rule):\n"
        "    if request['state']['status'] == 'DISABLED':\n"
        "        raise Refuse('no disabling today')\n"
        "@hookimpl\n"
        "def after_request(request, rule, outcome):\n"
        f"    open({str(heard)!r}, 'a').write(outcome['outcome'] + '\\n')\n"
    )
    events = tmp_path / "events.jsonl"
    rules = tmp_path / "r.policy"
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/{}"
    told = f'notify file(path: "{events}")'
    rules.write_text(f'rule "off" {{ target "{arn.format(1)}" status disabled {told} }}\n'
                     f'rule "old" {{ target "{arn.format(2)}" status deprecated {told} }}\n')  # fmt: skip
    result = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--plugin", str(guard), "--format", "json",
                   str(rules))  # fmt: skip
    assert result.code == 1
    assert [o["outcome"] for o in outcomes(result)] == ["refused", "accepted"]
    assert "no disabling today" in outcomes(result)[0]["error"]["message"]  # type: ignore[index]
    assert sorted(heard.read_text().split()) == ["accepted", "refused"]
    kinds = [json.loads(line)["kind"] for line in events.read_text().splitlines()]
    assert kinds.count("request") == 2 and kinds.count("plan") == 1


def test_a_saved_plan_is_applied_and_refused_once_the_rules_change(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/2"
    (rules / "a.policy").write_text(f'rule "old" {{ target "{arn}" status deprecated }}\n')
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--inventory", INVENTORY, "--now", NOW, "--out", str(plan_file), str(rules)).code == 0
    outside = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", str(plan_file))  # rules elsewhere
    assert outside.code == 1 and "outside the repository of this run" in outside.err and endpoint.accepted == []
    root = ("--import-root", str(tmp_path))
    applied = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--format", "json", *root, str(plan_file))
    assert applied.code == 0 and len(endpoint.accepted) == 1
    (rules / "a.policy").write_text(f'rule "old" {{ target "{arn}" status disabled }}\n')
    stale = apply(run, endpoint, tmp_path / "j2.jsonl", "--auto-approve", *root, str(plan_file))
    assert stale.code == 1 and "a.policy (changed)" in stale.err and len(endpoint.accepted) == 1


def test_wait_reports_per_resource_results(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    rules = tmp_path / "w.policy"
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/1"
    rules.write_text(f'rule "w" {{ target "{arn}" status disabled role "R" include amis }}\n')
    result = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--wait", "--format", "json", str(rules))
    assert result.code == 0, result.err
    (outcome,) = outcomes(result)
    assert outcome["execution"] == "SUCCESS"
    ids = {r["resourceId"] for r in outcome["results"]}  # type: ignore[attr-defined]
    assert arn in ids and {"ami-0000000000000001", "ami-0000000000000002"} <= ids


def test_killed_mid_run_then_rerun_sends_each_request_once(endpoint: ImageBuilderEndpoint, tmp_path: Path) -> None:
    endpoint.faults = Faults(delay=0.3)
    journal = tmp_path / "j.jsonl"
    command = [str(Path(sys.executable).with_name("policyengine")), "apply", "--inventory", INVENTORY, "--now", NOW,
               "--endpoint-url", endpoint.url, "--region", "us-east-1", "--journal", str(journal), "--auto-approve",
               "--allow-delete", "--concurrency", "2", "--format", "json", RULES]  # fmt: skip
    env = dict(os.environ, POLICYENGINE_PLUGINS_BLOCK="prod_guard,semver")
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 30
    while len(endpoint.accepted) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert 3 <= len(endpoint.accepted) < REQUESTS
    done_before = {r["clientToken"] for r in endpoint.accepted}
    endpoint.faults = Faults()
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert second.returncode == 0, second.stderr
    tokens = Counter(r["clientToken"] for r in endpoint.accepted)
    assert len(tokens) == REQUESTS and set(tokens.values()) == {1}  # each acted on exactly once
    second_outcomes = json.loads(second.stdout)["outcomes"]
    skipped = {o["clientToken"] for o in second_outcomes if o["outcome"] == "skipped"}
    assert skipped <= done_before  # only what the service had accepted is skipped by the journal
    resent = [o for o in second_outcomes if o["outcome"] == "accepted"]
    assert len(resent) <= REQUESTS - len(done_before) + 2  # at most the two in flight are sent again


def test_the_demo_applies_the_examples(capfd: pytest.CaptureFixture[str]) -> None:
    from policyengine.testing.demo import main

    assert main([INVENTORY, RULES]) == 0
    out = capfd.readouterr().out
    assert "Apply: 9 requests: 9 accepted" in out and "acted on once each" in out


def test_every_modelled_error_has_its_own_meaning() -> None:
    from policyengine.dispatch import ERRORS
    from policyengine.servicemodel import service_model

    errors = {e["shape"] for e in service_model()["operations"]["StartResourceStateUpdate"]["errors"]}
    assert set(ERRORS) == errors and len({message for _, message in ERRORS.values()}) == len(errors)


def test_a_reused_token_is_a_final_mismatch(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/{}"
    rules = tmp_path / "t.policy"
    rules.write_text(f'rule "a" {{ target "{arn.format(1)}" status deprecated token "same-token" }}\n')
    assert apply(run, endpoint, tmp_path / "j1.jsonl", "--auto-approve", str(rules)).code == 0
    rules.write_text(f'rule "a" {{ target "{arn.format(2)}" status deprecated token "same-token" }}\n')
    result = apply(run, endpoint, tmp_path / "j2.jsonl", "--auto-approve", "--format", "json", str(rules))
    (outcome,) = outcomes(result)
    assert result.code == 1 and outcome["outcome"] == "failed" and outcome["attempts"] == 1
    assert outcome["error"]["code"] == "IdempotentParameterMismatchException"  # type: ignore[index]
    assert "change `token`" in outcome["error"]["message"]  # type: ignore[index]


def test_an_image_busy_with_an_execution_is_retried_later(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    endpoint.execution_seconds = 1.0
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/1"
    rules = tmp_path / "busy.policy"
    rules.write_text(f'rule "first" {{ target "{arn}" status disabled role "R" include amis }}\n')
    assert apply(run, endpoint, tmp_path / "j1.jsonl", "--auto-approve", str(rules)).code == 0
    rules.write_text(f'rule "second" {{ target "{arn}" status deprecated role "R" include amis }}\n')
    result = apply(run, endpoint, tmp_path / "j2.jsonl", "--auto-approve", "--format", "json", str(rules))
    (outcome,) = outcomes(result)
    assert result.code == 0 and outcome["outcome"] == "accepted" and int(outcome["attempts"]) > 1  # type: ignore[call-overload]


def test_a_plan_edited_by_hand_is_refused(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--inventory", INVENTORY, "--now", NOW, "--out", str(plan_file), RULES).code == 0
    document = json.loads(plan_file.read_text())
    document["requests"][0]["request"]["state"]["status"] = "DELETED"
    plan_file.write_text(json.dumps(document))
    result = apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", "--allow-delete", str(plan_file))
    assert result.code == 1 and "was changed after it was made" in result.err and endpoint.accepted == []
    plan_file.write_text("{not json")
    assert "is not a saved plan" in apply(run, endpoint, tmp_path / "j.jsonl", "--auto-approve", str(plan_file)).err


def test_the_journal_skips_only_the_same_request_sent_to_the_same_place(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/{}"
    rules = tmp_path / "t.policy"
    rules.write_text(f'rule "a" {{ target "{arn.format(1)}" status deprecated token "kept-token" }}\n')
    assert apply(run, endpoint, journal, "--auto-approve", str(rules)).code == 0
    rules.write_text(f'rule "a" {{ target "{arn.format(2)}" status deprecated token "kept-token" }}\n')
    result = apply(run, endpoint, journal, "--auto-approve", "--format", "json", str(rules))
    assert result.code == 1 and outcomes(result)[0]["outcome"] == "failed"  # sent, and refused as a mismatch
    with ImageBuilderEndpoint(INVENTORY) as other:
        again = apply(run, other, journal, "--auto-approve", "--format", "json", str(rules))
        assert again.code == 0 and outcomes(again)[0]["outcome"] == "accepted" and len(other.accepted) == 1


def test_a_journal_cut_inside_a_character_or_busy_is_handled(
    run: Callable[..., Run], endpoint: ImageBuilderEndpoint, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_bytes(b"[" * 100_000 + b"\n" + '{"event": "start", "rule": "é'.encode()[:-1])  # not ours, then cut
    assert apply(run, endpoint, journal, "--auto-approve", "--allow-delete", RULES).code == 0
    import fcntl

    with open(journal) as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        busy = apply(run, endpoint, journal, "--auto-approve", "--allow-delete", RULES)
    assert busy.code == 1 and "another `apply` is using the journal" in busy.err
    assert "not a regular file" in apply(run, endpoint, Path("/dev/null"), "--auto-approve", RULES).err
