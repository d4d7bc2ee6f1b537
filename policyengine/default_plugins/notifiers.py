"""The built-in notifiers: `log` (stderr), `file` (JSON lines) and `webhook` (a JSON POST)."""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..constants import PROJECT
from ..events import Event
from ..hookspecs import hookimpl


class _Args(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LogArgs(_Args):
    """`log` takes no arguments."""


class FileArgs(_Args):
    """`file(path: "events.jsonl")`: append one JSON line per event."""

    path: str = Field(min_length=1)


class WebhookArgs(_Args):
    """`webhook(url: "https://...")`: POST each event as JSON (a Slack incoming webhook accepts it)."""

    url: str
    timeout: float = Field(default=10.0, gt=0, le=120)
    allow_http: bool = False

    @model_validator(mode="after")
    def _safe_url(self) -> WebhookArgs:
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("url must be an http(s) URL with a host")
        if parts.scheme == "http" and not self.allow_http and not _loopback(parts.hostname):
            raise ValueError("plain http sends events unencrypted: use https, or add `allow_http: true`")
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def log(event: Event, args: LogArgs) -> None:
    """Write one line per event on stderr."""
    print(f"{PROJECT}: {event.summary()}", file=sys.stderr, flush=True)


def to_file(event: Event, args: FileArgs) -> None:
    """Append the event to a JSON-lines file."""
    line = json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True)
    with open(args.path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def webhook(event: Event, args: WebhookArgs) -> None:
    """POST the event as JSON, with a `text` line for chat tools."""
    import urllib.request

    body = json.dumps({"text": f"{PROJECT}: {event.summary()}", PROJECT: event.to_json()}).encode()
    request = urllib.request.Request(
        args.url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": PROJECT}
    )
    with urllib.request.urlopen(request, timeout=args.timeout) as response:
        response.read()


@hookimpl
def register_notifiers(register: Callable[..., None]) -> None:
    """Register `log`, `file` and `webhook`."""
    register("log", log, LogArgs)
    register("file", to_file, FileArgs)
    register("webhook", webhook, WebhookArgs)
