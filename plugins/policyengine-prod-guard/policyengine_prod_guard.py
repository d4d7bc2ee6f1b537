"""A policyengine guard: images of production never get `status deleted`.

Production images are those whose name matches one of the globs in the environment variable
``PROD_GUARD_IMAGES`` (comma-separated; default ``*-prod,*-prod-*``). The plugin:

- checks every rule (`check_rule`): a `deleted` rule that targets a production image is an
  error (PROD001); a `deleted` rule that includes AMIs without any exclusion is a warning
  (PROD002);
- refuses, just before it is sent, any `DELETED` request for a production image
  (`before_request`), whatever the rules said;
- adds the notifier `stdout(prefix: "...")`, which prints each event on standard output.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict

from policyengine import Problem, Refuse, hookimpl

__version__ = "0.1.0"
DEFAULT_GLOBS = "*-prod,*-prod-*"


def production(arn: str) -> bool:
    """True when the image named in ``arn`` is a production image."""
    name = arn.split(":image/", 1)[-1].split("/", 1)[0]
    globs = [g.strip() for g in os.environ.get("PROD_GUARD_IMAGES", DEFAULT_GLOBS).split(",") if g.strip()]
    return any(fnmatchcase(name, g) for g in globs)


@hookimpl
def check_rule(rule: Any) -> list[Problem]:
    """PROD001 and PROD002."""
    if rule.status is None or rule.status.value != "deleted":
        return []
    problems = [
        Problem(f"`{t.arn}` is a production image and must never be deleted", code="PROD001",
                hint="deprecate or disable it instead")
        for t in rule.targets if production(t.arn)
    ]  # fmt: skip
    if rule.exclusions is None and rule.include is not None and rule.include.amis:
        problems.append(Problem("this rule deletes without any exclusion", severity="warning", code="PROD002",
                                hint='spare pinned AMIs: exclude amis when tag "keep" = "true"'))  # fmt: skip
    return problems


@hookimpl
def before_request(request: dict[str, Any], rule: Any) -> None:
    """Refuse DELETED for production images."""
    if request["state"]["status"] == "DELETED" and production(request["resourceArn"]):
        raise Refuse(f"{request['resourceArn']} is a production image (PROD_GUARD_IMAGES)")


class StdoutArgs(BaseModel):
    """`prefix`: what each line starts with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str = "policyengine"


def to_stdout(event: Any, args: StdoutArgs) -> None:
    """Print the event's summary line."""
    print(f"{args.prefix}: {event.summary()}", flush=True)


@hookimpl
def register_notifiers(register: Callable[..., None]) -> None:
    """Add `stdout`."""
    register("stdout", to_stdout, StdoutArgs)
