"""Plugins: loading (and failing closed), registries, argument models, and every hook."""

from __future__ import annotations

import inspect
import json
import re
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from policyengine import Refuse, hookspecs
from policyengine.default_plugins.notifiers import FileArgs, LogArgs, WebhookArgs, log, to_file, webhook
from policyengine.events import Event, EventRule
from policyengine.plugins import PluginError, load_plugins

from .conftest import ROOT, Run

INVENTORY = str(ROOT / "rules" / "inventory.json")
NOW = "2026-12-04T00:00:00Z"
ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/1"
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(_, "policyengine_spec")]


@pytest.fixture
def plugin(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a plugin module file."""

    def write(name: str, body: str) -> Path:
        path = tmp_path / f"{name}.py"
        path.write_text("from policyengine import hookimpl, Problem, Refuse\n" + textwrap.dedent(body))
        return path

    return write


@pytest.fixture
def rules(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "r.policy"
        path.write_text(textwrap.dedent(text))
        return path

    return write


SELECT = 'rule "s" {{ select {call} status disabled }}'


def test_builtins_are_ordinary_plugins(run: Callable[..., Run]) -> None:
    data = json.loads(run("plugins", "--format", "json").out)["plugins"]
    by_name = {p["name"]: p for p in data}
    assert by_name["policyengine.default_plugins.images"]["selectors"] == ["images"]
    assert by_name["policyengine.default_plugins.notifiers"]["notifiers"] == ["log", "file", "webhook"]
    assert all(p["source"] == "built-in" and p["version"] for p in data)


def test_hook_register_selectors(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "newest",
        """
        from pydantic import BaseModel
        class Args(BaseModel):
            name: str
        def newest(args, context):
            builds = sorted((i for i in context.images if i.name == args.name), key=lambda i: i.created)
            return [builds[-1].arn, builds[-1].arn]
        @hookimpl
        def register_selectors(register):
            register("newest", newest, Args)
    """,
    )
    result = run("compile", "--plugin", str(path), "--inventory", INVENTORY, "--now", NOW,
                 str(rules(SELECT.format(call='newest(name: "golden-al2023")'))))  # fmt: skip
    data = json.loads(result.out)
    assert [r["request"]["resourceArn"] for r in data["requests"]] == [
        "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-al2023/1.2.1/1"
    ]
    assert data["unresolved"] == []
    bad = run("check", "--plugin", str(path), str(rules(SELECT.format(call="newest(nam: 1)"))))
    assert bad.code == 1 and "E317" in bad.out and "did you mean `name`?" in bad.out


def test_hook_register_notifiers(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "chat",
        """
        @hookimpl
        def register_notifiers(register):
            register("chat", lambda event, args: None)
    """,
    )
    text = f'rule "n" {{ target "{ARN}" status disabled notify chat(room: "x") }}'
    assert run("check", "--plugin", str(path), str(rules(text))).code == 0
    assert "E211" in run("check", str(rules(text))).out


def test_check_rule_problems_name_the_plugin(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "lint",
        """
        @hookimpl
        def check_rule(rule):
            return ["no owner" if rule.owner is None else None, Problem("be careful", severity="warning"),
                    Problem("custom", code="TEAM007", hint="ask the team")][0 if rule.owner is None else 1:]
    """,
    )
    target = rules('rule "c" { target "arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/1" status disabled }')
    result = run("check", "--format", "json", "--plugin", str(path), str(target))
    found = [(d["code"], d["severity"], d["message"], d.get("source")) for d in json.loads(result.out)["diagnostics"]]
    assert found == [
        ("E499", "error", "no owner", str(path)),
        ("TEAM007", "error", "custom", str(path)),
        ("W499", "warning", "be careful", str(path)),
    ]
    assert result.code == 1


def test_hook_check_rule(plugin: Callable[..., Path], rules: Callable[..., Path]) -> None:
    from policyengine.engine import Options, check_paths

    seen: list[str] = []
    path = plugin("seen", "")
    host = load_plugins([str(path)])

    class Recorder:
        @staticmethod
        @hookspecs.hookimpl
        def check_rule(rule: Any) -> None:
            seen.append(rule.name)

    host.manager.register(Recorder, name="recorder")
    check_paths([str(ROOT / "rules")], Options(plugins=host))
    assert len(seen) == 6


def test_hook_before_request(plugin: Callable[..., Path]) -> None:
    path = plugin(
        "guard",
        """
        @hookimpl
        def before_request(request, rule):
            if request["state"]["status"] == "DELETED":
                raise Refuse("no deleting on Fridays")
    """,
    )
    host = load_plugins([str(path)])
    host.hook.before_request(request={"state": {"status": "DISABLED"}}, rule=None)
    with pytest.raises(Refuse, match="Fridays"):
        host.hook.before_request(request={"state": {"status": "DELETED"}}, rule=None)


def test_hook_after_request(plugin: Callable[..., Path]) -> None:
    path = plugin(
        "after",
        """
        SEEN = []
        @hookimpl
        def after_request(outcome):  # an implementation may take only what it needs
            SEEN.append(outcome["outcome"])
    """,
    )
    host = load_plugins([str(path)])
    host.hook.after_request(request={}, rule=None, outcome={"outcome": "accepted"})
    assert host.manager.get_plugin(str(path)).SEEN == ["accepted"]


def test_hooks_fire_in_order(run: Callable[..., Run], plugin: Callable[..., Path], tmp_path: Path) -> None:
    log_path = tmp_path / "order.log"
    path = plugin(
        "order",
        f"""
        def note(text):
            with open({str(log_path)!r}, "a") as fh:
                fh.write(text + "\\n")
        def pick(args, context):
            note("select")
            return []
        @hookimpl
        def register_selectors(register):
            note("register_selectors")
            register("pick", pick)
        @hookimpl
        def register_notifiers(register):
            note("register_notifiers")
        @hookimpl
        def check_rule(rule):
            note("check_rule " + rule.name)
    """,
    )
    rules_file = tmp_path / "o.policy"
    rules_file.write_text('rule "a" { select pick() status disabled }\nrule "b" { select pick() status disabled }\n')
    assert run("compile", "--plugin", str(path), "--inventory", INVENTORY, str(rules_file)).code == 0
    assert log_path.read_text().split("\n")[:-1] == [
        "register_selectors", "register_notifiers", "select", "select", "check_rule a", "check_rule b",
    ]  # fmt: skip


def test_plugins_never_load_at_import() -> None:
    import subprocess
    import sys

    code = "import sys, policyengine, policyengine.engine; print('policyengine_semver' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------- bad plugins fail closed


def test_a_plugin_that_fails_to_import(run: Callable[..., Run], plugin: Callable[..., Path]) -> None:
    path = plugin("broken", "import not_a_module_anywhere\n")
    result = run("check", "--plugin", str(path), str(ROOT / "rules"))
    assert result.code == 1 and result.out == ""
    assert f"plugin `{path}`: importing it failed: ModuleNotFoundError" in result.err
    assert "Traceback" not in result.err
    assert "plugin `no.such.module`" in run("check", "--plugin", "no.such.module", str(ROOT / "rules")).err


def test_a_duplicate_name_names_both_plugins(run: Callable[..., Run], plugin: Callable[..., Path]) -> None:
    path = plugin(
        "dup",
        """
        @hookimpl
        def register_selectors(register):
            register("images", lambda args, context: [])
    """,
    )
    result = run("check", "--plugin", str(path), str(ROOT / "rules"))
    assert result.code == 1
    assert re.search(r"plugin `.*dup.py`: registers the selector `images`, which plugin "
                     r"`policyengine.default_plugins.images` registered already", result.err)  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('register("status", lambda a, c: [])', "which a rule cannot name"),
        ('register("ok", 42)', "not callable"),
        ('register("ok", lambda a, c: [], dict)', "not a pydantic model"),
    ],
)
def test_invalid_registrations(body: str, message: str, plugin: Callable[..., Path]) -> None:
    path = plugin("bad", f"@hookimpl\ndef register_selectors(register):\n    {body}\n")
    with pytest.raises(PluginError, match=message):
        load_plugins([str(path)])


def test_an_unknown_hook_is_refused(plugin: Callable[..., Path]) -> None:
    path = plugin("typo", "@hookimpl\ndef check_rules(rule):\n    return []\n")
    with pytest.raises(PluginError) as exc:
        load_plugins([str(path)])
    assert exc.value.plugin == str(path) and "check_rules" in str(exc.value)


def test_a_selector_that_raises(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "boom",
        """
        def boom(args, context):
            raise RuntimeError("the API is down")
            yield
        @hookimpl
        def register_selectors(register):
            register("boom", boom)
    """,
    )
    result = run("compile", "--plugin", str(path), "--inventory", INVENTORY, str(rules(SELECT.format(call="boom()"))))
    assert result.code == 1 and result.out == ""
    assert "error[E415]: selector `boom` (plugin `" in result.err and "RuntimeError: the API is down" in result.err
    assert "Traceback" not in result.err


def test_a_selector_that_returns_no_arn(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "junk",
        """
        @hookimpl
        def register_selectors(register):
            register("junk", lambda args, context: ["ami-0123", 7])
    """,
    )
    result = run("compile", "--plugin", str(path), "--inventory", INVENTORY, str(rules(SELECT.format(call="junk()"))))
    assert result.code == 1
    assert "error[E416]: selector `junk` (plugin `" in result.err and "returned 'ami-0123'" in result.err


def test_a_check_rule_that_raises_names_the_plugin(run: Callable[..., Run], plugin: Callable[..., Path]) -> None:
    path = plugin("crash", "@hookimpl\ndef check_rule(rule):\n    raise KeyError('x')\n")
    result = run("check", "--plugin", str(path), str(ROOT / "rules"))
    assert result.code == 1 and f"plugin `{path}`: hook `check_rule` failed: KeyError" in result.err


# ---------------------------------------------------------------- discovery switches


def test_environment_variable_loads_plugins(
    run: Callable[..., Run], plugin: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = plugin(
        "envplug", "@hookimpl\ndef register_notifiers(register):\n    register('envnote', lambda e, a: None)\n"
    )
    monkeypatch.setenv("POLICYENGINE_PLUGINS", f"{path}, ")
    names = [p["name"] for p in json.loads(run("plugins", "--format", "json").out)["plugins"]]
    assert str(path) in names


def test_trace_prints_every_hook_call(run: Callable[..., Run]) -> None:
    result = run("check", "--trace-hooks", str(ROOT / "rules"))
    assert "register_selectors" in result.err and "register_notifiers" in result.err


# ---------------------------------------------------------------- built-in notifiers

EVENT = Event("request", EventRule("r", "team"), request={"resourceArn": "arn:x"}, outcome={"outcome": "accepted"})


def test_log_notifier(capsys: pytest.CaptureFixture[str]) -> None:
    log(EVENT, LogArgs())
    assert capsys.readouterr().err == "policyengine: request of rule `r` accepted: arn:x\n"


def test_file_notifier(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    to_file(EVENT, FileArgs(path=str(path)))
    to_file(Event("plan", plan={"summary": {"requests": 1}}), FileArgs(path=str(path)))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["request", "plan"]
    assert lines[0]["rule"] == {"name": "r", "owner": "team"}


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()


def test_webhook_notifier_posts_json(loopback: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = loopback
    webhook(EVENT, WebhookArgs(url=url))
    (post,) = received
    assert post["type"] == "application/json"
    assert post["body"]["text"] == "policyengine: request of rule `r` accepted: arn:x"
    assert post["body"]["policyengine"]["outcome"] == {"outcome": "accepted"}


def test_webhook_refuses_plain_http_off_loopback(run: Callable[..., Run], rules: Callable[..., Path]) -> None:
    text = f'rule "w" {{{{ target "{ARN}" status disabled notify webhook({{}}) }}}}'
    assert "use https" in run("check", str(rules(text.format('url: "http://hooks.example.com/x"')))).out
    assert run("check", str(rules(text.format('url: "http://hooks.example.com/x", allow_http: true')))).code == 0
    assert run("check", str(rules(text.format('url: "https://hooks.example.com/x"')))).code == 0


# ---------------------------------------------------------------- the hook reference


def test_every_hook_is_documented_with_its_signature_and_tested() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text()
    tests = Path(__file__).read_text()
    assert set(HOOKS) == {"register_selectors", "register_notifiers", "check_rule", "before_request", "after_request"}
    for name in HOOKS:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### `{name}({params})`" in doc, f"{name}({params}) is not documented"
        assert f"def test_hook_{name}(" in tests, f"{name} has no test of its own"


# ---------------------------------------------------------------- plugins cannot end the run as a success


@pytest.mark.parametrize(
    "body",
    [
        "raise SystemExit(0)\n",
        "@hookimpl\ndef check_rule(rule):\n    raise SystemExit(0)\n",
        "@hookimpl\ndef check_rule(rule):\n    return {'a': 1}\n",
        "@hookimpl\ndef check_rule(rule):\n    return [Problem(5)]\n",
        "@hookimpl\ndef check_rule(rule):\n    return [Problem('x', code='E302')]\n",
        "@hookimpl\ndef check_rule(rule):\n    return [Problem('x', severity='info')]\n",
        "@hookimpl\ndef check_rule(rule):\n    yield 'x'\n    raise ValueError('midway')\n",
    ],
)
def test_misbehaving_plugins_fail_the_run_naming_themselves(
    run: Callable[..., Run], plugin: Callable[..., Path], body: str
) -> None:
    path = plugin("odd", body)
    result = run("check", "--plugin", str(path), str(ROOT / "rules"))
    assert result.code == 1
    assert f"plugin `{path}`" in result.err and "internal error" not in result.err


def test_a_selector_that_exits_is_reported(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin("quit", "@hookimpl\ndef register_selectors(register):\n    register('quit', lambda a, c: exit(0))\n")
    result = run("compile", "--plugin", str(path), "--inventory", INVENTORY, str(rules(SELECT.format(call="quit()"))))
    assert result.code == 1 and "E415" in result.err and "SystemExit" in result.err


def test_check_rule_sees_the_targets_selectors_found(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "count",
        """
        @hookimpl
        def check_rule(rule):
            rule.targets.clear()  # a private copy: this changes nothing for anyone else
            return []
        @hookimpl
        def register_notifiers(register):
            pass
    """,
    )
    other = plugin(
        "seen",
        """
        @hookimpl
        def check_rule(rule):
            return [Problem(f"{len(rule.targets)} targets", severity="warning", code="SEEN1")]
    """,
    )
    text = SELECT.format(call='images(name: "golden-al2023", keep_latest: 3)')
    result = run("compile", "--plugin", str(path), "--plugin", str(other), "--inventory", INVENTORY, "--now", NOW,
                 str(rules(text)))  # fmt: skip
    # 7 builds of golden-al2023: the 3 newest usable ones are kept, the failed one is not usable
    assert "SEEN1" in result.err and "4 targets" in result.err
    assert len(json.loads(result.out)["requests"]) == 4


def test_register_is_bound_to_its_plugin_and_closed_after_start_up(plugin: Callable[..., Path]) -> None:
    spoof = plugin("spoof", "@hookimpl\ndef register_selectors(register):\n    register('x', len, None, 'images')\n")
    with pytest.raises(PluginError, match="spoof"):
        load_plugins([str(spoof)])
    late = plugin(
        "late",
        """
        KEPT = []
        @hookimpl
        def register_selectors(register):
            KEPT.append(register)
    """,
    )
    host = load_plugins([str(late)])
    with pytest.raises(PluginError, match="after start-up"):
        host.manager.get_plugin(str(late)).KEPT[0]("later", len)


def test_an_argument_model_that_raises_names_the_plugin(
    run: Callable[..., Run], plugin: Callable[..., Path], rules: Callable[..., Path]
) -> None:
    path = plugin(
        "model",
        """
        from pydantic import BaseModel, model_validator
        class Args(BaseModel):
            @model_validator(mode="before")
            @classmethod
            def boom(cls, data):
                raise KeyError("nope")
        @hookimpl
        def register_selectors(register):
            register("m", lambda a, c: [], Args)
    """,
    )
    result = run("check", "--plugin", str(path), str(rules(SELECT.format(call="m()"))))
    assert result.code == 1 and f"plugin `{path}`" in result.err and "KeyError" in result.err


def test_a_misspelt_image_status_is_an_argument_error(run: Callable[..., Run], rules: Callable[..., Path]) -> None:
    result = run("check", str(rules(SELECT.format(call='images(name: "app", status: "AVALABLE")'))))
    assert result.code == 1 and "E317" in result.out and '"AVALABLE" is not an image status' in result.out
