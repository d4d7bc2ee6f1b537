"""The inventory file: the model of CLI.md's format and its E5xx problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.inventory import InventoryError, load_inventory, parse_inventory

from .conftest import ROOT

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"
IMAGE = {"arn": ARN, "name": "app", "version": "1.0.0/1", "type": "AMI", "created": "2026-01-10T08:00:00Z",
         "status": "AVAILABLE"}  # fmt: skip


def problems(document: object) -> list[tuple[str, str]]:
    with pytest.raises(InventoryError) as exc:
        parse_inventory(json.dumps(document).encode(), "inv.json")
    return [(d.code, d.message) for d in exc.value.diagnostics]


def test_the_sample_inventory_is_valid() -> None:
    inventory = load_inventory(str(ROOT / "rules" / "inventory.json"))
    assert len(inventory.images) >= 10
    assert any(ami.public for image in inventory.images for ami in image.amis)


def test_defaults() -> None:
    amis = [{"id": "ami-0abc", "region": "us-east-1", "account": "123456789012"}]
    image = parse_inventory(json.dumps({"images": [{**IMAGE, "amis": amis}]}).encode(), "inv.json").images[0]
    ami = image.amis[0]
    assert (image.tags, image.containers, ami.public, ami.shared_accounts, ami.last_launched, ami.snapshots) == (
        {}, [], False, [], None, []
    )  # fmt: skip


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as exc:
        load_inventory(str(tmp_path / "missing.json"))
    assert [d.code for d in exc.value.diagnostics] == ["E001"]


def test_invalid_json() -> None:
    with pytest.raises(InventoryError) as exc:
        parse_inventory(b'{"images": [\n  {"arn": }]}', "inv.json")
    (d,) = exc.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E501", 2, 11)


def test_fields_name_their_json_path() -> None:
    bad_ami = {"id": "ami-0abc", "region": "us-east-1", "account": "1234", "colour": "red"}
    found = problems({"images": [{**IMAGE, "status": "SHINY", "amis": [bad_ami]}, {"arn": "x"}]})
    messages = dict((m.split(" ", 1)[0], (c, m)) for c, m in found)
    assert messages["$.images[0].status"][0] == "E502" and "AVAILABLE" in messages["$.images[0].status"][1]
    assert "12-digit" in messages["$.images[0].amis[0].account"][1]
    assert "not a field" in messages["$.images[0].amis[0].colour"][1]
    assert "image build version ARN" in messages["$.images[1].arn"][1]
    assert "required" in messages["$.images[1].name"][1]


def test_times_must_carry_a_zone() -> None:
    (found,) = problems({"images": [{**IMAGE, "created": "2026-01-10T08:00:00"}]})
    assert found[0] == "E502" and "$.images[0].created" in found[1]


def test_duplicate_images() -> None:
    assert [c for c, _ in problems({"images": [IMAGE, IMAGE]})] == ["E503"]


def test_cli_reports_inventory_problems_without_traceback(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "inv.json"
    bad.write_text('{"images": [{"arn": 1}]}')
    result = run("compile", "--inventory", str(bad), str(ROOT / "rules"))
    assert result.code == 1 and "E502" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(("text", "code"), [("[" * 100_000, "E501"), ('{"images": [' + "9" * 5000 + "]}", "E501"),
                                             ('{"images": [1]}', "E502"), ("null", "E502")])  # fmt: skip
def test_odd_json_ends_in_diagnostics(text: str, code: str) -> None:
    with pytest.raises(InventoryError) as exc:
        parse_inventory(text, "inv.json")
    assert exc.value.diagnostics[0].code == code
