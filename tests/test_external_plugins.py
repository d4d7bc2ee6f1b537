"""The example plugins of plugins/, installed with pip (entry points), through the real CLI.

`make test` installs both packages into the test environment; nothing here registers them
by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

CLI = str(Path(sys.executable).with_name("policyengine"))
PROD = "arn:aws:imagebuilder:us-east-1:123456789012:image/web-prod/1.0.0/1"


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICYENGINE_")} | {"NO_COLOR": "1", **env}
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=environ, timeout=60)


@pytest.fixture(scope="module")
def installed() -> dict[str, dict[str, object]]:
    result = cli("plugins", "--format", "json")
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    missing = {"semver", "prod_guard"} - set(plugins)
    assert not missing, f"install the example plugins first (make test does): pip install -e plugins/*  {missing}"
    return plugins


def test_entry_points_add_a_selector_notifiers_a_guard_and_a_check(installed: dict[str, dict[str, object]]) -> None:
    assert installed["semver"]["selectors"] == ["semver_older_than_latest"]
    assert installed["semver"]["source"] == "entry point of policyengine-semver"
    assert installed["prod_guard"]["notifiers"] == ["stdout"]
    assert installed["prod_guard"]["hooks"] == ["before_request", "check_rule", "register_notifiers"]
    assert installed["prod_guard"]["version"] == "0.1.0"


def test_the_selector_resolves_through_compile(installed: object, tmp_path: Path) -> None:
    rules = tmp_path / "semver.policy"
    rules.write_text('rule "old-golden" {\n  select semver_older_than_latest(name: "golden-al2023", keep: 2)\n'
                     "  status deprecated\n}\n")  # fmt: skip
    result = cli("compile", "--inventory", str(ROOT / "rules" / "inventory.json"), str(rules))
    assert result.returncode == 0, result.stderr
    versions = [r["request"]["resourceArn"].split("/golden-al2023/")[1] for r in json.loads(result.stdout)["requests"]]
    assert versions == ["1.0.0/1", "1.0.0/2", "1.0.0/3", "1.1.0/1", "1.1.0/2"]
    rules.write_text('rule "x" { select semver_older_than_latest(nme: "a") status deprecated }')
    assert "did you mean `name`?" in cli("check", str(rules)).stdout


def test_the_check_and_the_notifier_work_through_check(installed: object, tmp_path: Path) -> None:
    rules = tmp_path / "prod.policy"
    rules.write_text(f'rule "wipe" {{\n  target "{PROD}"\n  status deleted\n  role "R"\n  include amis\n'
                     '  notify stdout(prefix: "ops")\n}\n')  # fmt: skip
    result = cli("check", "--format", "json", str(rules))
    found = [(d["code"], d["severity"], d["source"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert found == [("PROD001", "error", "prod_guard"), ("PROD002", "warning", "prod_guard")]
    assert result.returncode == 1
    rules.write_text(rules.read_text().replace('prefix: "ops"', "colour: 1"))
    assert "notifier `stdout` (plugin `prod_guard`) has no argument `colour`" in cli("check", str(rules)).stdout


def test_block_and_allow_lists(installed: object) -> None:
    names = lambda **env: [p["name"] for p in json.loads(cli("plugins", "--format", "json", **env).stdout)["plugins"]]  # noqa: E731
    assert "prod_guard" not in names(POLICYENGINE_PLUGINS_BLOCK="prod_guard")
    assert "semver" in names(POLICYENGINE_PLUGINS_BLOCK="prod_guard")
    assert {"semver", "prod_guard"} - set(names(POLICYENGINE_PLUGINS_ALLOW="semver")) == {"prod_guard"}


def test_the_notifier_is_told_about_the_plan(installed: object, tmp_path: Path) -> None:
    rules = tmp_path / "told.policy"
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/3"
    rules.write_text(f'rule "told" {{\n  target "{arn}"\n  status deprecated\n  notify stdout(prefix: "ops")\n}}\n')
    result = cli("plan", "--inventory", str(ROOT / "rules" / "inventory.json"), "--now", "2026-12-04T00:00:00Z",
                 "--format", "json", str(rules))  # fmt: skip
    assert result.returncode == 0, result.stderr
    # no include: only the image record changes; its 6 AMIs and 6 snapshots are skipped
    assert result.stdout.splitlines()[-1] == "ops: plan: 1 request (1 update, 12 skipped)"


def test_the_guard_refuses_through_apply(installed: object, tmp_path: Path) -> None:
    from policyengine.testing import ImageBuilderEndpoint

    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image/web-prod/1.0.0/1"
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"images": [{
        "arn": arn, "name": "web-prod", "version": "1.0.0/1", "type": "AMI", "created": "2026-01-01T00:00:00Z",
        "status": "AVAILABLE", "amis": [{"id": "ami-0abc", "region": "us-east-1", "account": "123456789012",
                                         "tags": {"CreatedBy": "EC2 Image Builder", "keep": "true"}}]}]}))  # fmt: skip
    rules = tmp_path / "wipe.policy"
    rules.write_text(f'rule "wipe" {{\n  target "{arn}"\n  status deleted\n  role "R"\n  include amis\n'
                     '  exclude amis when tag keep = "true"\n}\n')  # fmt: skip
    plan_file = tmp_path / "plan.json"
    # The plan is made while the guard does not know this image as production (its check passes) ...
    made = cli("plan", "--inventory", str(inventory), "--now", "2026-12-04T00:00:00Z", "--out", str(plan_file),
               str(rules), PROD_GUARD_IMAGES="nothing-matches")  # fmt: skip
    assert made.returncode == 0, made.stderr
    aws = {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip
    with ImageBuilderEndpoint(str(inventory)) as endpoint:
        # ... and applied when it does: the guard refuses the request just before it is sent.
        result = cli("apply", "--endpoint-url", endpoint.url, "--region", "us-east-1", "--auto-approve",
                     "--allow-delete", "--journal", str(tmp_path / "j.jsonl"), "--format", "json",
                     "--import-root", str(tmp_path), str(plan_file), **aws)  # fmt: skip
        assert endpoint.accepted == []
    assert result.returncode == 1
    (outcome,) = json.loads(result.stdout)["outcomes"]
    assert outcome["outcome"] == "refused" and "refused by plugin `prod_guard`" in outcome["error"]["message"]
