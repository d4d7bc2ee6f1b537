"""The last act of `make demo`: apply the example rules to a loopback Image Builder endpoint.

No AWS account is needed: the endpoint serves the sample inventory over the real rest-json
protocol, with a rate limit and some server errors switched on, so that the dispatcher's
retries show; the command is the real `policyengine apply`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import Faults, ImageBuilderEndpoint

NOW = "2026-12-04T00:00:00Z"


def main(argv: list[str] | None = None) -> int:
    """Serve the inventory, run `policyengine apply` against it, print what the endpoint saw."""
    args = argv if argv is not None else sys.argv[1:]
    inventory = args[0] if args else "rules/inventory.json"
    rules = args[1] if len(args) > 1 else "rules/"
    faults = Faults(rate_limit=20, burst=5, error_rate_after=0.1)
    with tempfile.TemporaryDirectory() as tmp, ImageBuilderEndpoint(inventory, faults=faults, seed=1) as endpoint:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # fmt: skip
        command = [str(Path(sys.executable).with_name("policyengine")), "apply", "--inventory", inventory,
                   "--now", NOW, "--endpoint-url", endpoint.url, "--region", "us-east-1", "--auto-approve",
                   "--allow-delete", "--journal", os.path.join(tmp, "journal.jsonl"), rules]  # fmt: skip
        code = subprocess.call(command, env=env)
        stats = endpoint.stats
        print(
            f"\nloopback endpoint: {stats['accepted']} requests acted on once each, {stats['throttled']} answered"
            f" 429, {stats['errors']} answered 500/503 after acting (their retries got the original answer)"
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
