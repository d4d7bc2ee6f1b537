"""Shared fixtures: running the CLI in-process, and golden files."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from policyengine.cli import main

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis budgets: `default` keeps `make test` bounded; `make fuzz` selects `fuzz`.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FAULT_ROUNDS = int(os.environ.get("POLICYENGINE_FAULT_ROUNDS", "1"))  # repetitions of each fault scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="Rewrite golden files from the current output.")


@pytest.fixture(autouse=True, scope="session")
def private_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The grammar and check caches of the test run live in a temporary directory, not in ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    os.environ.pop("POLICYENGINE_CACHE_DIR", None)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run `policyengine ARGS...` in this process; return exit status and output.

    The example plugins under plugins/ are installed in the test environment; they are
    blocked here so that each test sees the built-ins only, unless it says otherwise.
    """
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("POLICYENGINE_PLUGINS_BLOCK", "prod_guard,semver")

    def runner(*args: str, cwd: Path | None = None) -> Run:
        old = os.getcwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            with pytest.raises(SystemExit) as exc:
                main(list(args))
        finally:
            os.chdir(old)
        captured = capsys.readouterr()
        return Run(int(exc.value.code or 0), captured.out, captured.err)

    return runner


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """Compare text with a golden file (or rewrite it with --update-goldens)."""
    update = request.config.getoption("--update-goldens")

    def check(path: Path, actual: str) -> None:
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing; run pytest --update-goldens to create it")
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"{path} differs (run pytest --update-goldens if the change is intended)"

    return check


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS setting of the machine leaks in: no config files, no instance metadata, test credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def file_size_limit(limit: int) -> Callable[[], None]:
    """A ``preexec_fn``: writes past ``limit`` bytes fail with EFBIG, as on a full disk (SIGXFSZ ignored)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited
