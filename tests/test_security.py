"""The security review's points (docs/security.md), each shown by a test that would fail without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import policyengine
from policyengine.testing import Faults, ImageBuilderEndpoint

from .conftest import ROOT, Run, file_size_limit, isolate

INVENTORY = str(ROOT / "rules" / "inventory.json")
NOW = "2026-12-04T00:00:00Z"
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.0.0/{}"
SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAPOLICYSECRET4242",
    "AWS_SECRET_ACCESS_KEY": "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",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEBSESSIONTOKEN4242//////////wEaDA==",
}

# ---------------------------------------------------------------- credentials


class Recorder:
    """A loopback webhook receiver that keeps every request's headers and body."""

    def __init__(self) -> None:
        self.received: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                recorder.received.append(f"{self.requestline}\n{self.headers}\n{body}")
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    served = Recorder()
    yield served
    served.server.shutdown()


def test_credentials_appear_in_no_output_plan_journal_hook_or_notifier_payload(
    run: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    isolate(monkeypatch, tmp_path)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    events, hooks = tmp_path / "events.jsonl", tmp_path / "hooks.txt"
    spy = tmp_path / "spy.py"  # a plugin that writes down everything its hooks are given
    spy.write_text(
        "from policyengine import hookimpl\n"
        "@hookimpl\n"
        "def before_request(request, rule):\n"
        f"    open({str(hooks)!r}, 'a').write(repr(request) + repr(rule) + '\\n')\n"
        "@hookimpl\n"
        "def after_request(request, rule, outcome):\n"
        f"    open({str(hooks)!r}, 'a').write(repr(outcome) + '\\n')\n"
    )
    told = f'notify file(path: "{events}") notify webhook(url: "{recorder.url}") notify log'
    rules = tmp_path / "r.policy"
    rules.write_text(
        f'rule "off" {{ target "{ARN.format(1)}" status disabled {told} }}\n'
        f'rule "old" {{ target "{ARN.format(2)}" status deprecated {told} }}\n'
        f'rule "bad" {{ target "{ARN.format(3)}" status deprecated {told} }}\n'
    )
    plan, journal = tmp_path / "plan.json", tmp_path / "journal.jsonl"
    with ImageBuilderEndpoint(INVENTORY, execution_seconds=0.05) as endpoint:
        endpoint.faults = Faults(error_rate_before=0.3, error_rate_after=0.3)
        common = ["--plugin", str(spy), "--trace-hooks", "--import-root", str(tmp_path)]
        planned = run("plan", "--inventory", INVENTORY, "--now", NOW, "--out", str(plan), *common, str(rules))
        applied = run("apply", str(plan), "--auto-approve", "--endpoint-url", endpoint.url, "--region", "us-east-1",
                      "--journal", str(journal), "--wait", "--format", "json", *common)  # fmt: skip
        refused = run("apply", str(plan), "--auto-approve", "--endpoint-url", "http://127.0.0.1:9", "--region",
                      "us-east-1", "--journal", str(tmp_path / "other.jsonl"), *common)  # fmt: skip
    assert planned.code == 0 and applied.code == 0, planned.err + applied.err
    assert len(endpoint.accepted) == 3  # the requests went out signed with these credentials
    assert refused.code == 1 and "127.0.0.1:9" in refused.out + refused.err  # an error that names its endpoint
    written = [plan, journal, events, hooks]
    assert all(path.stat().st_size for path in written) and len(recorder.received) >= 6
    everything = [planned.out, planned.err, applied.out, applied.err, refused.out, refused.err]
    everything += [path.read_text() for path in written] + recorder.received
    for text in everything:
        for name, secret in SECRETS.items():
            for part in (secret, secret[:16], secret[-16:]):
                assert part not in text, f"{name} leaked"


# ---------------------------------------------------------------- plugins load only from the named sources


MARKER = "import pathlib, os; pathlib.Path(os.environ['MARKERS'], __name__).touch()\n"
ENTRY_POINT_PLUGIN = MARKER + "from policyengine import hookimpl\n@hookimpl\ndef check_rule(rule):\n    return []\n"


def _dist(site: Path, name: str, group: str, module: str) -> None:
    """Install a distribution that offers ``module`` under the entry point ``group`` (as pip would)."""
    (site / f"{module}.py").write_text(ENTRY_POINT_PLUGIN)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{module} = {module}\n")


def _check(directory: Path, site: Path, markers: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICYENGINE_")}
    environ.update(PYTHONPATH=str(site), MARKERS=str(markers), NO_COLOR="1", **env)
    return subprocess.run([sys.executable, "-m", "policyengine", "check", "--no-cache", "r.policy"], cwd=directory,
                          env=environ, capture_output=True, text=True, timeout=60)  # fmt: skip


def test_plugins_load_only_from_entry_points_the_environment_variable_and_plugin(tmp_path: Path) -> None:
    site, work, markers = tmp_path / "site", tmp_path / "work", tmp_path / "markers"
    for directory in (site, work, markers):
        directory.mkdir()
    _dist(site, "good", "policyengine", "good_plugin")
    _dist(site, "other", "policyengine_extras", "other_group_plugin")  # another group: never ours
    for stray in ("policyengine_plugin", "plugin", "conftest", "policyengine_semver_local"):  # beside the rules
        (work / f"{stray}.py").write_text(MARKER)
    (work / "plugins").mkdir()
    (work / "plugins" / "__init__.py").write_text(MARKER)
    (work / "r.policy").write_text(f'rule "r" {{ target "{ARN.format(1)}" status deprecated }}\n'
                                   f'rule "s" {{ select plugin(x: 1) status deprecated }}\n')  # fmt: skip

    result = _check(work, site, markers, POLICYENGINE_PLUGINS_BLOCK="prod_guard,semver")
    assert "E210" in result.stdout and "Traceback" not in result.stderr  # a rule cannot name a module to load
    assert sorted(p.name for p in markers.iterdir()) == ["good_plugin"]  # the entry point, and nothing else

    for env in ({"POLICYENGINE_PLUGINS_BLOCK": "good_plugin,prod_guard,semver"},
                {"POLICYENGINE_PLUGINS_ALLOW": "semver"}):  # fmt: skip
        (markers / "good_plugin").unlink(missing_ok=True)
        checked = _check(work, site, markers, **env)
        assert checked.returncode == 1 and "E210" in checked.stdout and "Traceback" not in checked.stderr, env
        assert list(markers.iterdir()) == [], env  # blocked, or not allowed: not even imported

    named = _check(work, site, markers, POLICYENGINE_PLUGINS="plugin", POLICYENGINE_PLUGINS_ALLOW="semver")
    assert named.returncode == 1 and sorted(p.name for p in markers.iterdir()) == ["plugin"]  # named: loaded


# ---------------------------------------------------------------- imports stay inside the repository


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


RULE = f'rule "r" {{ target "{ARN.format(1)}" status deprecated description team }}\n'


def test_an_import_cannot_leave_the_directory_named_outside_a_repository(
    run: Callable[..., Run], tmp_path: Path
) -> None:
    _tree(tmp_path, {"a/main.policy": 'import "../b/common.policy"\n' + RULE, "b/common.policy": 'let team = "x"\n'})
    refused = run("check", "--no-cache", "a/", cwd=tmp_path)
    assert refused.code == 1 and "E212" in refused.out and "`a`" in refused.out
    assert run("check", "--no-cache", "--import-root", ".", "a/", cwd=tmp_path).code == 0


def test_an_import_may_go_anywhere_in_the_git_repository_but_not_beyond(
    run: Callable[..., Run], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    _tree(repo, {"rules/main.policy": 'import "../shared/common.policy"\n' + RULE,
                 "shared/common.policy": 'let team = "x"\n',
                 "rules/escape.policy": 'import "../../outside.policy"\n'})  # fmt: skip
    _tree(tmp_path, {"outside.policy": 'let team = "y"\n'})
    result = run("check", "--no-cache", "rules/", cwd=repo)
    assert result.code == 1 and result.out.count("error[") == 1
    assert "rules/escape.policy:1:8: error[E212]" in result.out
    assert "outside the repository of this run (`.`)" in result.out


def test_a_symbolic_link_cannot_lead_an_import_outside(run: Callable[..., Run], tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    _tree(outside, {"secret.policy": 'let team = "TOPSECRET"\n'})
    _tree(repo, {"main.policy": 'import "link.policy"\nimport "dir/secret.policy"\n' + RULE})
    (repo / "link.policy").symlink_to(outside / "secret.policy")
    (repo / "dir").symlink_to(outside)
    result = run("check", "--no-cache", "--format", "json", "main.policy", cwd=repo)
    codes = [d["code"] for d in json.loads(result.out)["diagnostics"]]
    assert codes == ["E212", "E212", "E201"] and "TOPSECRET" not in result.out


def test_the_cached_answer_of_one_import_root_is_not_given_for_another(run: Callable[..., Run], tmp_path: Path) -> None:
    _tree(tmp_path, {"a/main.policy": 'import "../b/common.policy"\n' + RULE, "b/common.policy": 'let team = "x"\n'})
    for _ in range(2):  # the second round is answered from the cache, each answer its own
        assert run("check", "--import-root", ".", "a/", cwd=tmp_path).code == 0
        assert "E212" in run("check", "a/", cwd=tmp_path).out


def test_the_cache_never_answers_across_the_confinement(run: Callable[..., Run], tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    common = 'let team = "x"\n'
    _tree(repo, {"main.policy": 'import "link.policy"\n' + RULE, "in.policy": common})
    _tree(outside, {"s.policy": common})  # the same bytes, outside
    link = repo / "link.policy"
    link.symlink_to("in.policy")
    assert run("check", "main.policy", cwd=repo).code == 0  # cached
    link.unlink()
    link.symlink_to(outside / "s.policy")
    assert "E212" in run("check", "main.policy", cwd=repo).out  # not the cached answer
    link.unlink()
    link.symlink_to("in.policy")
    assert run("check", "main.policy", cwd=repo).code == 0  # nor the stale refusal


def test_the_cache_notices_an_import_that_appears(run: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _tree(tmp_path, {"main.policy": 'import "common.policy"\n' + RULE})
    assert "E205" in run("check", "main.policy", cwd=tmp_path).out  # cached
    _tree(tmp_path, {"common.policy": 'let team = "x"\n'})
    assert run("check", "main.policy", cwd=tmp_path).code == 0


def test_compile_plan_and_apply_confine_imports_too(
    run: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(monkeypatch, tmp_path)
    _tree(tmp_path, {"a/main.policy": 'import "../b/common.policy"\n' + RULE, "b/common.policy": 'let team = "x"\n'})
    with ImageBuilderEndpoint(INVENTORY) as endpoint:
        sending = ["--endpoint-url", endpoint.url, "--region", "us-east-1", "--journal", "j.jsonl", "--auto-approve"]
        for command in (["compile"], ["plan", "--inventory", INVENTORY], ["apply", "--inventory", INVENTORY, *sending]):
            refused = run(*command, "a/", cwd=tmp_path)
            assert refused.code == 1 and "E212" in refused.err and endpoint.accepted == []
            assert run(*command, "--import-root", ".", "a/", cwd=tmp_path).code == 0, command
    assert len(endpoint.accepted) == 1


def test_the_api_confines_imports_too(tmp_path: Path) -> None:
    _tree(tmp_path, {"a/main.policy": 'import "../b/common.policy"\n' + RULE, "b/common.policy": 'let team = "x"\n'})
    assert [d.code for d in policyengine.load([str(tmp_path / "a")], plugins=False).diagnostics][:1] == ["E212"]
    assert policyengine.load([str(tmp_path / "a")], plugins=False, import_root=str(tmp_path)).ok
    assert policyengine.compile([str(tmp_path / "a")], plugins=False, import_root=str(tmp_path))
    text, name = 'import "../b/common.policy"\n' + RULE, str(tmp_path / "a" / "x.policy")
    assert [d.code for d in policyengine.loads(text, name, plugins=False).diagnostics][:1] == ["E212"]
    assert policyengine.loads(text, name, plugins=False, import_root=str(tmp_path)).ok
    outside = policyengine.loads('import "/etc/passwd"\n', plugins=False)  # the default name: the current directory
    assert [d.code for d in outside.diagnostics] == ["E212"]


# ---------------------------------------------------------------- files are written whole or not at all


def _policyengine(args: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, NO_COLOR="1", POLICYENGINE_PLUGINS_BLOCK="prod_guard,semver")
    return subprocess.run([sys.executable, "-m", "policyengine", *args], cwd=cwd, env=environ, text=True,
                          capture_output=True, timeout=60, preexec_fn=file_size_limit(limit))  # fmt: skip


def _untouched(directory: Path, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    assert after == before  # the old contents, and no temporary file left behind


def test_fmt_that_cannot_write_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    rules = "\n".join(f'rule "r{i}" {{ target "{ARN.format(i + 1)}"  status   deprecated }}' for i in range(200))
    (tmp_path / "r.policy").write_text(rules + "\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = _policyengine(["fmt", "r.policy"], tmp_path, limit=4096)
    assert result.returncode == 1, result.stderr
    assert "r.policy" in result.stderr and "File too large" in result.stderr and "Traceback" not in result.stderr
    _untouched(tmp_path, before)
    assert _policyengine(["fmt", "r.policy"], tmp_path, limit=1 << 30).returncode == 0  # room again: written
    assert (tmp_path / "r.policy").read_text().count("\n  status deprecated\n") == 200


def test_plan_out_that_cannot_write_keeps_the_previous_plan(tmp_path: Path) -> None:
    (tmp_path / "r.policy").write_text(f'rule "r" {{ target "{ARN.format(1)}" status deprecated }}\n')
    (tmp_path / "plan.json").write_text('{"previous": true}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    args = ["plan", "--inventory", INVENTORY, "--now", NOW, "--out", "plan.json", "r.policy"]
    result = _policyengine(args, tmp_path, limit=64)
    assert result.returncode == 1 and "plan.json" in result.stderr and "Traceback" not in result.stderr
    _untouched(tmp_path, before)
