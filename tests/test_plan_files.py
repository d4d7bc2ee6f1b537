"""Saved plans and inventory files that are broken, edited or foreign: each a clear error, nothing sent."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine.errors import PolicyEngineError
from policyengine.inventory import InventoryError, parse_inventory
from policyengine.plan import plan_text
from policyengine.planning import load_plan

from .conftest import ROOT, Run

INVENTORY = ROOT / "rules" / "inventory.json"
NOW = "2026-12-04T00:00:00Z"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A plan of the example rules, saved once for the module."""
    from policyengine.cli import main

    directory = tmp_path_factory.mktemp("plan")
    out = directory / "plan.json"
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--inventory", str(INVENTORY), "--now", NOW, "--out", str(out), "--format", "json",
              str(ROOT / "rules")])  # fmt: skip
    assert exc.value.code == 0
    return out, json.loads(out.read_text())


def _load(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    with pytest.raises(PolicyEngineError) as exc:
        load_plan(str(path))
    return str(exc.value)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda d: "{not json", "not a saved plan: Expecting property name enclosed in double quotes: line 1 column 2"),
        (lambda d: [], "$: expected an object, found a list"),
        (lambda d: {**d, "version": 99}, "is a plan of version 99; this policyengine reads version 1"),
        (lambda d: {k: v for k, v in d.items() if k != "version"}, "$.version: expected a number, found nothing"),
        (lambda d: {**d, "requests": {}}, "$.requests: expected a list, found an object"),
        (lambda d: {**d, "requests": [1]}, "$.requests[0]: expected an object, found a number"),
        (lambda d: {**d, "sources": {"a.policy": 1}}, '$.sources["a.policy"]: expected a string, found a number'),
        (lambda d: {**d, "files": [None]}, "$.files[0]: expected a string, found null"),
        (lambda d: {**d, "plan_digest": False}, "$.plan_digest: expected a string, found a boolean"),
        (lambda d: {**d, "now": "2020-01-01T00:00:00Z"}, "was changed after it was made"),
        (lambda d: {**d, "files": d["files"] + ["/etc/passwd"]}, "was changed after it was made"),
        (lambda d: {**d, "unknown": 1}, "was changed after it was made"),
        (lambda d: {**d, "requests": d["requests"][1:]}, "was changed after it was made"),
    ],
    ids=["json", "not-an-object", "version", "no-version", "requests", "request", "sources", "files", "digest", "now",
         "extra-file", "unknown-field", "one-request-less"],
)  # fmt: skip
def test_a_broken_or_edited_plan_is_refused_with_where_and_why(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path, edit: Callable[[Any], Any], says: str | None
) -> None:
    _, document = saved
    path = tmp_path / "edited.json"
    if says is None:
        path.write_text(json.dumps(edit(copy.deepcopy(document))))
        assert load_plan(str(path))["requests"] == document["requests"]
        return
    message = _load(path, edit(copy.deepcopy(document)))
    assert str(path) in message and says in message


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every JSON path inside a document."""
    out = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*at, index))
    return out


REPLACEMENTS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.text(max_size=3), st.just([]),
                         st.just({}), st.just("DELETED"), st.just("arn:aws:imagebuilder:x"))  # fmt: skip


def _edit(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    edited = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_paths(edited)[1:]))
        parent = edited
        for step in where[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = data.draw(REPLACEMENTS)
    return edited


@pytest.mark.fuzz
@given(data=st.data())
def test_any_edit_of_a_saved_plan_is_refused_or_changes_nothing(
    saved: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    _, document = saved
    edited = _edit(document, data)
    path = tmp_path_factory.mktemp("fuzz") / "plan.json"
    path.write_text(json.dumps(edited))
    try:
        loaded = load_plan(str(path))
    except PolicyEngineError as exc:
        assert str(path) in str(exc)
        return
    assert loaded == document  # what is shown and applied is exactly what was reviewed


@pytest.mark.fuzz
@given(data=st.data())
def test_an_edited_plan_with_its_digest_made_again_is_refused_or_safe_to_show_and_send(
    saved: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """The digest is no signature: whoever edits a plan can compute it again. Then the checks behind it hold."""
    _, document = saved
    edited = _edit(document, data)
    if not isinstance(edited.get("requests"), list) or not isinstance(edited.get("sources"), dict):
        return  # refused by shape before the digest: shown by the test above
    path = tmp_path_factory.mktemp("fuzz") / "plan.json"
    try:
        path.write_text(plan_text(edited))
    except (TypeError, ValueError, AttributeError):
        return  # not even serialisable: not a file anyone could have made
    try:
        loaded = load_plan(str(path))
    except PolicyEngineError as exc:
        assert str(path) in str(exc)
        return
    from policyengine.formats.plan_text import render_text
    from policyengine.formats.style import Style
    from policyengine.servicemodel import validate

    render_text(loaded, Style(False))  # what apply shows
    assert all(validate(item["request"]) == [] for item in loaded["requests"])  # what apply sends


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000,
     '{"version": 1, "sources": {}, "requests": [], "now": "\\ud800", "plan_digest": "x"}'],
    ids=["deep", "lone-surrogate"],
)
def test_a_hostile_plan_file_is_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(PolicyEngineError, match="plan"):
        load_plan(str(path))


def test_a_plan_naming_files_outside_the_repository_is_refused(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = saved
    for files in (["/etc/passwd"], ["rules/a\u0000b.policy"]):
        path = tmp_path / "plan.json"
        path.write_text(plan_text({**copy.deepcopy(document), "files": files}))
        with pytest.raises(PolicyEngineError, match="outside the repository of this run"):
            load_plan(str(path))


@pytest.mark.fuzz
@given(cut=st.integers(0, 4000), junk=st.binary(max_size=8))
def test_any_damage_to_the_inventory_file_ends_in_its_own_diagnostics(cut: int, junk: bytes) -> None:
    data = INVENTORY.read_bytes()
    cut %= len(data)
    damaged = data[:cut] + junk + data[cut + len(junk) :]
    try:
        parse_inventory(damaged, "inventory.json")
    except InventoryError as exc:
        assert exc.diagnostics and all(d.code.startswith(("E0", "E5")) for d in exc.diagnostics)
        assert all(d.span.file == "inventory.json" for d in exc.diagnostics)


def test_apply_of_a_broken_plan_sends_nothing_and_says_why(run: Callable[..., Run], tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"version": 1, "sources": {}, "requests": [{"rule": "r"}], "plan_digest": "x"}')
    result = run("apply", str(plan), "--auto-approve", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1",
                 "--journal", str(tmp_path / "j.jsonl"))  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err
    assert "$.requests[0].request: expected an object, found nothing" in result.err
    assert not (tmp_path / "j.jsonl").exists()


def test_a_request_the_service_model_refuses_is_named_by_its_json_path(
    saved: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = saved
    edited = copy.deepcopy(document)
    edited["requests"][1]["request"]["resourceArn"] = "x"
    path = tmp_path / "plan.json"
    path.write_text(plan_text(edited))  # the digest made again: the model still refuses it
    with pytest.raises(PolicyEngineError, match=r"\$\.requests\[1\]\.request\.resourceArn: `x` does not match"):
        load_plan(str(path))
