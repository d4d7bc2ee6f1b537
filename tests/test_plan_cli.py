"""`policyengine plan` end to end on the example rules and the sample inventory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .conftest import ROOT, Run

INVENTORY = str(ROOT / "rules" / "inventory.json")
NOW = "2026-12-04T00:00:00Z"
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/3"


def plan(run: Callable[..., Run], *args: str) -> Run:
    return run("plan", "--inventory", INVENTORY, "--now", NOW, *args)


def test_json_plan_of_the_examples(run: Callable[..., Run]) -> None:
    result = plan(run, "--format", "json", str(ROOT / "rules"))
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["version"] == 1 and doc["now"] == NOW and doc["sources_digest"].startswith("sha256:")
    first = doc["requests"][0]
    assert first["rule"] == "deprecate-stale-golden" and first["request"]["resourceArn"] == ARN
    kinds = {(r["type"], r["verdict"]) for r in first["resources"]}
    assert {("ami", "update"), ("ami", "excluded"), ("ami", "uncertain"), ("image", "update")} <= kinds
    assert doc["summary"]["requests"] == len(doc["requests"]) == 9
    assert doc["summary"]["retained"] == 2


def test_text_and_markdown(run: Callable[..., Run]) -> None:
    text = plan(run, str(ROOT / "rules")).out
    assert (
        "rule deprecate-stale-golden" in text
        and "? ami" in text
        and text.rstrip().splitlines()[-1].startswith("Plan: 9 requests")
    )
    markdown = plan(run, "--format", "markdown", str(ROOT / "rules")).out
    assert markdown.startswith("### policyengine plan") and "| ❓ | ami |" in markdown


def test_out_saves_the_plan_and_detailed_exitcode(run: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = plan(run, "--out", str(out), "--detailed-exitcode", str(ROOT / "rules"))
    assert result.code == 2
    assert json.loads(out.read_text())["summary"]["requests"] == 9
    quiet = tmp_path / "q.policy"
    quiet.write_text(f'rule "noop" {{ target "{ARN}" status deprecated exclude amis when public }}\n')
    # no include: only the image record changes, so there is a change
    assert plan(run, "--detailed-exitcode", str(quiet)).code == 2


def test_a_refused_request_fails_the_plan(run: Callable[..., Run], tmp_path: Path) -> None:
    rules = tmp_path / "r.policy"
    rules.write_text('rule "late" {\n  target "' + ARN + '"\n  status deprecated\n  at 2026-01-01\n}\n'
                     'rule "gone" {\n  target "arn:aws:imagebuilder:us-east-1:123456789012:image/nope/1.0.0/1"\n'
                     "  status disabled\n}\n")  # fmt: skip
    result = plan(run, "--format", "json", str(rules))
    assert result.code == 1
    assert "r.policy:4:6: error[E420]" in result.err and "not in the future" in result.err
    assert "r.policy:7:10: error[E420]" in result.err and "ResourceNotFoundException" in result.err
    refused = [r for r in json.loads(result.out)["requests"] if r.get("errors")]
    assert len(refused) == 2 and all(r["resources"] == [] for r in refused)


def test_notifiers_receive_the_plan_event(run: Callable[..., Run], tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    rules = tmp_path / "n.policy"
    rules.write_text(f'rule "told" {{\n  target "{ARN}"\n  status deprecated\n  owner "platform"\n'
                     f'  notify file(path: "{events}")\n  notify log\n}}\n')  # fmt: skip
    result = plan(run, str(rules))
    assert result.code == 0
    (event,) = [json.loads(line) for line in events.read_text().splitlines()]
    assert event["kind"] == "plan" and event["rule"] == {"name": "told", "owner": "platform"}
    assert event["plan"]["summary"]["requests"] == 1
    assert "policyengine: plan: 1 request" in result.err
    events.unlink()
    quiet = plan(run, "--no-notify", str(rules))
    assert quiet.code == 0 and not events.exists() and "policyengine: plan:" not in quiet.err


def test_a_failing_notifier_is_reported_and_changes_nothing(run: Callable[..., Run], tmp_path: Path) -> None:
    rules = tmp_path / "n.policy"
    rules.write_text(f'rule "told" {{ target "{ARN}" status deprecated notify file(path: "{tmp_path}") }}\n')
    result = plan(run, str(rules))
    assert result.code == 0
    assert "warning: plugin `policyengine.default_plugins.notifiers`: notifier `file` failed" in result.err
