"""Sending the requests, each exactly once in effect.

A bounded worker pool, a rate limiter that slows down when the service throttles, retries
that always carry the same client token, and the journal.

What the service does that botocore does not handle: `CallRateLimitExceededException`
(HTTP 429) is not retried by botocore's standard or adaptive modes, so it is retried here
with jittered exponential backoff; a 500 or 503 may come after the service acted, so every
retry carries the same token and the service answers with the original execution;
`ResourceInUseException` means an execution is already running for that image (retry later,
not at once); the other modelled errors are final. botocore takes an answer cut short of its
`Content-Length`, or a body that is not JSON (a proxy's HTML page), for an empty success: such an
answer is refused here (`check_answer`) and the request retried with the same token. What each
HTTP attempt ran into is kept in the outcome (`faults`). When the journal cannot be written, no
request is begun after it (docs/reliability.md).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .aws import Aws, error_code, error_message
from .errors import PolicyEngineError, Refuse
from .journal import Journal, fingerprint
from .plugins import PluginError, PluginHost

# What each modelled exception means for the run: retry (and how), or final, and what to say.
ERRORS: dict[str, tuple[str, str]] = {
    "CallRateLimitExceededException": ("throttle", "the service's rate limit was exceeded; retried with backoff"),
    "ServiceException": ("retry", "the service failed (HTTP 500); retried with the same token"),
    "ServiceUnavailableException": ("retry", "the service was unavailable (HTTP 503); retried with the same token"),
    "ResourceInUseException": ("later", "a lifecycle execution is already running for this image; retried later"),
    "IdempotentParameterMismatchException": (
        "final", "this client token was already used for a different request: change `token`, or the rule back"),
    "InvalidRequestException": ("final", "the service refused the request as invalid"),
    "ResourceNotFoundException": ("final", "the service has no such image build version"),
    "ForbiddenException": ("final", "the execution role or the caller is not allowed to do this"),
    "ClientException": ("final", "the service refused the request (a client error)"),
}  # fmt: skip
CONNECTION_ERRORS = ("EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError")
OPERATION = "StartResourceStateUpdate"


class UnreadableAnswer(Exception):
    """An answer that cannot be read: cut short of its ``Content-Length``, or a body that is not JSON."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_answer(response_dict: dict[str, Any], **_: Any) -> None:
    """The ``before-parse`` hook of botocore: refuse an answer that was cut short or is not a JSON object.

    botocore reads a body without holding it to its ``Content-Length``, and parses a body that is
    not JSON (or empty) as an empty answer; either would pass for an accepted request with nothing
    known. A success must be a JSON object; an error answer may be empty (its status speaks), but
    what it holds must be a JSON object too. The service sends no compressed answers: any
    other body is unreadable, whatever its `Content-Encoding` says.
    """
    body: bytes = response_dict.get("body") or b""
    headers = response_dict.get("headers") or {}
    status = response_dict.get("status_code")
    declared = str(headers.get("content-length", "")).strip()
    problem = None
    if declared.isdigit() and int(declared) != len(body):
        message = f"the answer (HTTP {status}) was cut short: {len(body)} of {declared} bytes came"
        problem = UnreadableAnswer("IncompleteAnswer", message)
    elif body.strip() or (isinstance(status, int) and status < 300):
        try:
            readable = isinstance(json.loads(body), dict)
        except (ValueError, RecursionError):
            readable = False
        if not readable:
            kind = headers.get("content-type") or "no content type"
            message = f"the answer (HTTP {status}, {kind}) is not a JSON object: {_excerpt(body)}"
            problem = UnreadableAnswer("NotJsonAnswer", message)
    if problem is not None:
        _note(problem.code)
        raise problem


def _excerpt(body: bytes, width: int = 60) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return repr(text if len(text) <= width else text[:width] + "…")


_ATTEMPT = threading.local()  # the current send's fault counts, in the thread that sends it


def _note(fault: str) -> None:
    faults: dict[str, int] | None = getattr(_ATTEMPT, "faults", None)
    if faults is not None:
        faults[fault] = faults.get(fault, 0) + 1


def note_attempt(exception: Exception | None = None, parsed_response: dict[str, Any] | None = None,
                 **_: Any) -> None:  # fmt: skip
    """The ``response-received`` hook of botocore: note what an HTTP attempt that did not succeed ran into."""
    if exception is not None:
        _note(type(exception).__name__)
        return
    answer = parsed_response or {}
    status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if status >= 300:
        code = answer.get("Error", {}).get("Code")
        _note(f"HTTP {status} {code}" if code and code != str(status) else f"HTTP {status}")


@dataclass
class Item:
    """One request to send, with the rule it came from."""

    rule: str
    request: dict[str, Any]
    rule_model: Any = None  # the resolved rule, given to hooks

    @property
    def token(self) -> str:
        """The request's client token."""
        return str(self.request["clientToken"])


@dataclass
class Outcome:
    """How one request ended: accepted, failed, refused or skipped."""

    rule: str
    resourceArn: str
    clientToken: str
    outcome: str
    lifecycleExecutionId: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    execution: str | None = None  # how the lifecycle execution ended (--wait)
    results: list[dict[str, Any]] = field(default_factory=list)  # per-resource results (--wait)
    faults: dict[str, int] = field(default_factory=dict)  # what the HTTP attempts ran into, botocore's retries too

    def to_json(self) -> dict[str, Any]:
        """The shape of one entry of `apply --format json`."""
        data: dict[str, Any] = {"rule": self.rule, "resourceArn": self.resourceArn, "clientToken": self.clientToken,
                                "outcome": self.outcome, "attempts": self.attempts}  # fmt: skip
        if self.lifecycleExecutionId:
            data["lifecycleExecutionId"] = self.lifecycleExecutionId
        if self.faults:
            data["faults"] = dict(self.faults)
        if self.error_code or self.error_message:
            data["error"] = {"code": self.error_code, "message": self.error_message}
        if self.execution:
            data["execution"] = self.execution
        if self.results:
            data["results"] = self.results
        return data


class RateLimiter:
    """A token bucket whose rate halves when the service throttles and creeps back up after."""

    def __init__(self, rate: float, burst: int = 1, floor: float = 0.5, ceiling: float | None = None) -> None:
        self.rate, self.burst, self.floor = rate, max(1, burst), floor
        self.ceiling = ceiling or rate
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for a token."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)

    def throttled(self) -> None:
        """The service said slow down: halve the rate and empty the bucket."""
        with self._lock:
            self.rate = max(self.floor, self.rate / 2)
            self._tokens = 0

    def succeeded(self) -> None:
        """An accepted call: raise the rate a little (by a tenth of the current rate, at most the ceiling)."""
        with self._lock:
            self.rate = min(self.ceiling, self.rate * 1.1)


@dataclass
class Policy:
    """How hard to try: attempts and backoff (seconds)."""

    max_attempts: int = 12
    max_throttles: int = 60
    base: float = 0.2
    cap: float = 20.0
    in_use_base: float = 2.0
    botocore_retries: int = 2
    timeout: float = 30.0


class Dispatcher:
    """Sends items concurrently within the rate limit, journals them, calls the plugin hooks."""

    def __init__(
        self,
        aws: Aws,
        journal: Journal,
        host: PluginHost | None = None,
        concurrency: int = 4,
        rate: float = 10.0,
        burst: int = 5,
        policy: Policy | None = None,
        allow_delete: bool = False,
        on_outcome: Callable[[Item, Outcome], None] | None = None,
    ) -> None:
        self.aws, self.journal, self.host = aws, journal, host
        self.concurrency = max(1, concurrency)
        self.limiter = RateLimiter(rate, burst)
        self.policy = policy or Policy()
        self.allow_delete = allow_delete
        self.on_outcome = on_outcome
        self.warnings: list[str] = []
        self.unjournaled: list[Outcome] = []  # accepted, but the `end` record could not be written
        self._clients: dict[str, Any] = {}  # by region, made by `run`
        self._random = random.Random()

    def run(self, items: Iterable[Item]) -> list[Outcome]:
        """Send every item; the outcomes in the items' order."""
        items = list(items)
        self._clients = {region: self._make_client(region) for region in sorted({_region(i) for i in items})}
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="policyengine-send") as pool:
            return list(pool.map(self._one, items))

    def _make_client(self, region: str) -> Any:
        """The region's client, with the answer checks registered: made up front, not raced for."""
        client = self.aws.client("imagebuilder", region, self.policy.botocore_retries, self.policy.timeout)
        events = client.meta.events
        events.register(f"before-parse.imagebuilder.{OPERATION}", check_answer, unique_id="policyengine-check")
        events.register(f"response-received.imagebuilder.{OPERATION}", note_attempt, unique_id="policyengine-note")
        return client

    def _one(self, item: Item) -> Outcome:
        outcome = self._decide(item)
        if self.host is not None:
            for plugin in self.host.implementers("after_request"):
                try:
                    self.host.call_one("after_request", plugin, request=dict(item.request), rule=item.rule_model,
                                       outcome=outcome.to_json())  # fmt: skip
                except PluginError as exc:  # reported; the other plugins still hear about it
                    self.warnings.append(str(exc))
        if self.on_outcome is not None:
            self.on_outcome(item, outcome)
        return outcome

    def _decide(self, item: Item) -> Outcome:
        base = Outcome(item.rule, item.request["resourceArn"], item.token, "skipped")
        region = _region(item)
        mark = fingerprint(f"{self.aws.settings.endpoint_url or 'aws'}|{self.aws.settings.profile or ''}|{region}",
                           item.request)  # fmt: skip
        if mark in self.journal.accepted:
            earlier = self.journal.accepted[mark]
            base.lifecycleExecutionId = earlier.get("lifecycleExecutionId")
            base.error_message = "accepted by an earlier run (journal)"
            return base
        if item.request["state"]["status"] == "DELETED" and not self.allow_delete:
            base.outcome, base.error_code = "refused", "AllowDeleteRequired"
            base.error_message = "`status deleted` cannot be undone: pass --allow-delete to send it"
            return base
        refusal = self._guards(item)
        if refusal is not None:
            base.outcome, base.error_code, base.error_message = "refused", "RefusedByPlugin", refusal
            return base
        try:
            self.journal.write("start", clientToken=item.token, fingerprint=mark, resourceArn=base.resourceArn,
                               rule=item.rule)  # fmt: skip
        except PolicyEngineError as exc:  # not journaled: not sent (once a write failed, no `start` is written)
            base.outcome, base.error_code, base.error_message = "failed", "JournalUnwritable", f"not sent: {exc}"
            return base
        outcome = self._send(item, base)
        try:
            self.journal.write("end", clientToken=item.token, fingerprint=mark, resourceArn=base.resourceArn,
                               rule=item.rule, outcome=outcome.outcome,
                               lifecycleExecutionId=outcome.lifecycleExecutionId,
                               error={"code": outcome.error_code, "message": outcome.error_message})  # fmt: skip
        except PolicyEngineError:  # the outcome stands, and the journal now refuses every `start`: nothing follows
            if outcome.outcome == "accepted":  # a re-run sends it again with the same token: answered, not redone
                self.unjournaled.append(outcome)
        return outcome

    def _guards(self, item: Item) -> str | None:
        if self.host is None:
            return None
        for plugin in self.host.implementers("before_request"):
            try:
                self.host.call_one("before_request", plugin, request=dict(item.request), rule=item.rule_model)
            except PluginError as exc:
                cause = exc.__cause__
                if isinstance(cause, Refuse):
                    return f"refused by plugin `{plugin}`: {cause}"
                return str(exc)  # a guard that fails refuses: fail closed
        return None

    def _send(self, item: Item, outcome: Outcome) -> Outcome:
        client = self._clients[_region(item)]
        _ATTEMPT.faults = outcome.faults
        try:
            return self._attempts(client, item, outcome)
        finally:
            _ATTEMPT.faults = None

    def _attempts(self, client: Any, item: Item, outcome: Outcome) -> Outcome:
        policy = self.policy
        attempt = throttles = 0
        while attempt < policy.max_attempts:
            attempt += 1
            outcome.attempts = attempt + throttles
            self.limiter.acquire()
            try:
                answer = client.start_resource_state_update(**item.request)
            except Exception as exc:  # botocore's errors, judged below
                kind, message, code = self._judge(exc)
                outcome.error_code, outcome.error_message = code, message
                if kind == "throttle" and throttles < policy.max_throttles:
                    throttles += 1  # throttling has its own budget: it is the service pacing us, not a fault
                    attempt -= 1
                    self.limiter.throttled()
                    self._sleep(min(throttles, 8), policy.base)
                    continue
                if kind == "final" or attempt == policy.max_attempts:
                    outcome.outcome = "failed"
                    return outcome
                if kind == "later":  # an execution is running: wait at least the base, never retry at once
                    time.sleep(policy.in_use_base * 2 ** min(attempt - 1, 4) * self._random.uniform(0.5, 1.0))
                    continue
                self._sleep(attempt, policy.base)
                continue
            self.limiter.succeeded()
            outcome.outcome, outcome.error_code, outcome.error_message = "accepted", None, None
            outcome.lifecycleExecutionId = answer.get("lifecycleExecutionId")
            return outcome
        outcome.outcome = "failed"
        return outcome

    def _judge(self, exc: Exception) -> tuple[str, str, str]:
        """(retry kind, message, code) for an exception from a send."""
        if isinstance(exc, UnreadableAnswer):  # the service may have acted: the same token makes a retry safe
            return "retry", f"{exc}; retried with the same token", exc.code
        code = error_code(exc)
        response = getattr(exc, "response", None)  # botocore's timeouts carry `response = None`
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(response, dict) else None
        if code in ERRORS:
            kind, meaning = ERRORS[code]
            return kind, f"{meaning}: {error_message(exc)}", str(code)
        if status == 429:
            return "throttle", f"throttled (HTTP 429, {code}): {error_message(exc)}; retried with backoff", str(code)
        if status in (500, 502, 503, 504):
            return "retry", f"HTTP {status} ({code}): {error_message(exc)}; retried with the same token", str(code)
        if code is not None:
            return "final", f"the service refused the request: {error_message(exc)}", code
        name = type(exc).__name__
        if name in CONNECTION_ERRORS or "Connection" in name or "Timeout" in name:
            return "retry", f"the connection failed ({name}: {exc}); retried with the same token", name
        if isinstance(exc, PolicyEngineError):
            return "final", str(exc), name
        return "final", f"{name}: {exc}", name

    def _sleep(self, attempt: int, base: float) -> None:
        """Full-jitter exponential backoff."""
        time.sleep(self._random.uniform(0, min(self.policy.cap, base * 2 ** (attempt - 1))))


def _region(item: Item) -> str:
    """The region of the image a request is for (the fourth field of its ARN)."""
    return str(item.request["resourceArn"].split(":")[3])
