"""The check cache: near-instant on an unchanged tree, never a stale answer."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from policyengine import cache

from .conftest import Run

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:image/app/1.0.0/1"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "lib.policy").write_text("let window = 6 months\n")
    (tmp_path / "rules" / "a.policy").write_text(
        f'import "lib.policy"\nrule "a" {{ target "{ARN}" status deprecated role "R" include amis\n'
        "  exclude amis when launched within window }\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def entries(tree: Path) -> list[Path]:
    return sorted((tree / "cache" / "policyengine" / "check").glob("*.pickle"))


def codes(result: Run) -> list[str]:
    return [d["code"] for d in json.loads(result.out)["diagnostics"]]


def test_a_repeated_check_is_answered_from_the_cache(
    run: Callable[..., Run], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run("check", "--format", "json", "rules")
    assert first.code == 0 and len(entries(tree)) == 1
    import policyengine.engine

    monkeypatch.setattr(policyengine.engine, "_finish", lambda *a: pytest.fail("the cache was not used"))
    second = run("check", "--format", "json", "rules")
    assert second.out == first.out and second.code == 0


def test_a_changed_file_is_checked_again(run: Callable[..., Run], tree: Path) -> None:
    run("check", "rules")
    (tree / "rules" / "a.policy").write_text(f'rule "a" {{ target "{ARN}" status deprecate }}\n')
    assert codes(run("check", "--format", "json", "rules")) == ["E302"]


def test_a_changed_import_outside_the_run_is_noticed(run: Callable[..., Run], tree: Path) -> None:
    assert run("check", "rules/a.policy").code == 0
    (tree / "rules" / "lib.policy").write_text("let window = 6 monts\n")
    assert "E304" in codes(run("check", "--format", "json", "rules/a.policy"))


def test_a_new_file_in_a_directory_is_noticed(run: Callable[..., Run], tree: Path) -> None:
    run("check", "rules")
    (tree / "rules" / "b.policy").write_text(f'rule "a" {{ target "{ARN}" status disabled }}\n')
    assert "E207" in codes(run("check", "--format", "json", "rules"))


def test_a_changed_plugin_is_noticed(run: Callable[..., Run], tree: Path) -> None:
    plugin = tree / "lint.py"
    plugin.write_text("from policyengine import hookimpl\n@hookimpl\ndef check_rule(rule):\n    return []\n")
    assert run("check", "--plugin", str(plugin), "rules").code == 0
    plugin.write_text("from policyengine import hookimpl\n@hookimpl\ndef check_rule(rule):\n    return ['no!']\n")
    os.utime(plugin, ns=(1, 10**18))  # a different modification time, whatever the clock says
    assert codes(run("check", "--format", "json", "--plugin", str(plugin), "rules")) == ["E499"]


def test_no_cache_neither_reads_nor_writes(run: Callable[..., Run], tree: Path) -> None:
    assert run("check", "--no-cache", "rules").code == 0
    assert entries(tree) == []  # nothing written
    run("check", "rules")
    (entry,) = entries(tree)
    planted = pickle.loads(entry.read_bytes())
    planted.rules = 999  # an answer no real check would give
    entry.write_bytes(pickle.dumps(planted))
    assert "999 rules" in run("check", "rules").out  # the cache is read without --no-cache ...
    assert "999 rules" not in run("check", "--no-cache", "rules").out  # ... and not with it
    assert pickle.loads(entry.read_bytes()).rules == 999  # nor written


def test_a_corrupt_entry_is_ignored(run: Callable[..., Run], tree: Path) -> None:
    run("check", "rules")
    (entry,) = entries(tree)
    entry.write_bytes(b"not a pickle")
    assert run("check", "rules").code == 0


def test_a_directory_others_can_write_is_not_trusted(run: Callable[..., Run], tree: Path) -> None:
    run("check", "rules")
    directory = tree / "cache" / "policyengine" / "check"
    directory.chmod(0o777)
    assert cache.load(entries(tree)[0].stem) is None
