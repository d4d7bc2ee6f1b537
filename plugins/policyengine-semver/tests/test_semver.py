"""The semver selector, on its own and through policyengine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import policyengine_semver as semver


@dataclass
class FakeImage:
    name: str
    version: str

    @property
    def arn(self) -> str:
        return f"arn:aws:imagebuilder:us-east-1:123456789012:image/{self.name}/{self.version}"


@dataclass
class Context:
    images: list[FakeImage]
    now: datetime = datetime(2026, 12, 4, tzinfo=UTC)


def test_versions_compare_as_numbers() -> None:
    assert semver.version_key("1.10.0/2") > semver.version_key("1.9.0/7")


def test_keeps_every_build_of_the_newest_versions() -> None:
    images = [FakeImage("app", v) for v in ["1.9.0/1", "1.10.0/1", "1.10.0/2", "1.2.0/5"]] + [
        FakeImage("web", "0.1.0/1")
    ]
    args = semver.SemverArgs(name="app", keep=1)
    found = list(semver.semver_older_than_latest(args, Context(images)))
    assert [a.rsplit(":image/", 1)[1] for a in found] == ["app/1.9.0/1", "app/1.2.0/5"]
