"""A loopback EC2 Image Builder endpoint that serves an inventory file, for tests and the offline demo.

It speaks the service's real protocol, rest-json as botocore's service model describes it, so a
boto3 client pointed at it runs its real serializer, signer, retry handler and error parser::

    with ImageBuilderEndpoint("rules/inventory.json") as endpoint:
        client = endpoint.client(region="us-east-1")
        client.get_image(imageBuildVersionArn=ARN)
        assert endpoint.requests == [("GetImage", {"imageBuildVersionArn": ARN})]

Requests are routed by the HTTP method and path the model gives each operation (``OPERATIONS``
names the operations served and their handlers), decoded member by member from where the input
shape puts them (query string, header or JSON body), validated against everything the model
states, and refused with the model's error shapes. The model is botocore's own (the newest
``imagebuilder/*/service-2.json``), read through ``policyengine.servicemodel`` without importing
botocore. It serves the read calls GetImage, ListImageBuildVersions and ListImages, and the write
side: StartResourceStateUpdate, GetLifecycleExecution and ListLifecycleExecutionResources.

Where the model leaves the behaviour open, the endpoint chooses:

* Regions: an image exists only for requests signed for the region of its ARN (the region is read
  from the SigV4 credential scope). Unsigned requests are refused (403). Signatures are not
  verified, so any credentials do; accounts are not checked.
* Unknown ARNs: GetImage answers ResourceNotFoundException (404), although the model does not list
  it among GetImage's errors; ListImageBuildVersions answers an empty list, as documented.
* Invalid requests (a required member missing; a pattern, enum, length or range broken, e.g. a
  malformed ARN) answer InvalidRequestException (400), the validation error these operations model.
* Filters: the names each operation documents (name, osVersion, platform, type, version). The
  values of one filter are alternatives; all filters apply. An unknown filter name, or a ``*``
  anywhere but in ``web*`` / ``*web*`` of the name filter, is refused with InvalidRequestException,
  never ignored: a lifecycle tool whose mistyped filter was ignored would act on too many images.
  The inventory has no OS version, so an osVersion filter matches nothing; the platform is Linux.
  The version filter takes ``1.0.0`` (a semantic version) or ``1.0.0/3`` (one build).
* Pages: ``maxResults`` is honoured (25 by default), and ``max_page_size`` shortens pages further,
  as the real service may. The order is fixed per ``seed`` but deliberately neither chronological
  nor by version. Tokens are opaque and bound to their query; any other answers
  InvalidPaginationTokenException.
* StartResourceStateUpdate acts once per ``clientToken``: the same token with the same parameters
  (and region) gets the original answer back without acting again; with other parameters,
  IdempotentParameterMismatchException. Acting records the request in ``accepted`` and gives the
  image its new status at once (GetImage and ``inventory`` show it), except for a DELETED request
  that retains the image because an AMI was excluded. With ``includeResources`` or ``updateAt`` it
  starts a lifecycle execution (``lce-`` and a UUID drawn from ``seed``) that is IN_PROGRESS for
  ``execution_seconds``, then SUCCESS; without, only ``resourceArn`` is answered. While an execution
  of an image runs, any other state update of that image is refused with ResourceInUseException.
* Besides the shapes, StartResourceStateUpdate refuses with InvalidRequestException what the
  documentation states: ``executionRole`` without ``includeResources`` or the reverse; snapshots
  without AMIs; snapshots or containers for another state than DELETED; DELETED without included
  resources; ``updateAt`` other than for DEPRECATED, or not in the future; a DELETED or still
  building image; a FAILED or CANCELLED image, or a container image, to another state than DELETED.
* Exclusion rules are judged per AMI in the order region, public, tag, shared accounts, last
  launched (months of 30 days, years of 365; never launched is not excluded); a skipped AMI and its
  snapshots are SKIPPED with the reason. ListLifecycleExecutionResources lists, as documented, the
  image (``resourceId`` its ARN) at the top level and, with ``parentResourceId`` set to that ARN,
  its included AMIs (their snapshots nested) and containers.
* Faults (``Faults``): a token bucket (HTTP 429 CallRateLimitExceededException, which botocore's
  standard and adaptive modes do not retry), server errors (500 ServiceException, 503
  ServiceUnavailableException) before or after acting, dropped connections (no answer at all),
  answers cut off mid-body, answers that are not JSON (a proxy's HTML page, a truncated document),
  answers slower than the client waits, and delays, for StartResourceStateUpdate unless
  ``fault_operations`` says otherwise; random draws come from ``seed``, so a run's faults repeat
  with the same order of requests.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from ..inventory import Ami, Image, Inventory, InventoryError, load_inventory
from ..servicemodel import service_model, validate

T = TypeVar("T")
Params = dict[str, Any]
Headers = Mapping[str, str]

PLATFORM = "Linux"
DEFAULT_PAGE_SIZE = 25
DEFAULT_EXECUTION_SECONDS = 0.2
DUMMY_CREDENTIALS = {"aws_access_key_id": "AKIAPOLICYENGINETEST", "aws_secret_access_key": "policyengine-testing"}
_MISSING: Any = object()


# --- Protocol: errors, routing and decoding, as the service model says -----------------------------


class ServiceError(Exception):
    """An error answer: its code (an error shape of the model), message and HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else modelled_status(code)


def modelled_status(code: str) -> int:
    """The HTTP status the model gives the error shape ``code`` (400 when it has none)."""
    shape = service_model()["shapes"].get(code, {})
    return int(shape.get("error", {}).get("httpStatusCode", 400))


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message)


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler knows of the request besides its parameters."""

    operation: str
    region: str
    request_id: str


Handler = Callable[["Service", Params, Call], Params]


@dataclass(frozen=True, slots=True)
class Operation:
    """One served operation: its name, HTTP route and shapes from the model, and its handler."""

    name: str
    method: str
    path: str
    input_shape: str
    output_shape: str | None
    handler: Handler


def operation_table(handlers: Mapping[str, Handler]) -> dict[tuple[str, str], Operation]:
    """The operations by (HTTP method, path), each route read from the service model."""
    table: dict[tuple[str, str], Operation] = {}
    for name, handler in handlers.items():
        model = service_model()["operations"][name]
        path = model["http"]["requestUri"].partition("?")[0]
        if "{" in path:
            raise ValueError(f"{name}: URI labels ({path}) are not supported")
        output = model.get("output", {}).get("shape")
        table[(model["http"]["method"], path)] = Operation(name, model["http"]["method"], path,
                                                           model["input"]["shape"], output, handler)  # fmt: skip
    return table


def decode_input(shape_name: str, query: Mapping[str, list[str]], headers: Headers, body: bytes) -> Params:
    """The request's parameters in the boto3 shape, each member read from where the model puts it."""
    members: dict[str, Any] = service_model()["shapes"][shape_name].get("members", {})
    in_body = any("location" not in member for member in members.values())
    document = _json_document(body) if in_body else {}
    params: Params = {}
    for name, member in members.items():
        value = _wire_value(name, member, query, headers, document)
        if value is not _MISSING:
            params[name] = value
    return params


def _wire_value(name: str, member: dict[str, Any], query: Mapping[str, list[str]], headers: Headers,
                document: dict[str, Any]) -> Any:  # fmt: skip
    location, wire, shape = member.get("location"), member.get("locationName", name), member["shape"]
    if location == "querystring" and wire in query:
        return _from_query(query[wire], shape)
    if location == "header" and wire.lower() in headers:
        return _from_text(headers[wire.lower()], shape)
    if location is None and wire in document:
        return _from_json(document[wire], shape)
    return _MISSING  # absent; URI labels and header maps: Image Builder has none


def _json_document(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError("SerializationException", f"the request body is not JSON: {exc}", 400) from exc
    if not isinstance(document, dict):
        raise ServiceError("SerializationException", "the request body is not a JSON object", 400)
    return document


def _from_query(values: list[str], shape_name: str) -> Any:
    shape = service_model()["shapes"][shape_name]
    if shape["type"] == "list":
        return [_from_text(value, shape["member"]["shape"]) for value in values]
    return _from_text(values[-1], shape_name)


def _from_text(text: str, shape_name: str) -> Any:
    kind = service_model()["shapes"][shape_name]["type"]
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            return {"true": True, "false": False}[text]
        if kind == "timestamp":
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, KeyError) as exc:
        raise ServiceError("SerializationException", f"`{text}` is not a valid {kind}", 400) from exc
    return text


def _from_json(value: Any, shape_name: str) -> Any:
    """A JSON body value in the boto3 shape: timestamps as datetimes, unknown members dropped."""
    shape = service_model()["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = {m.get("locationName", name): (name, m["shape"]) for name, m in shape.get("members", {}).items()}
        return {members[k][0]: _from_json(v, members[k][1]) for k, v in value.items() if k in members}
    if kind == "list" and isinstance(value, list):
        return [_from_json(item, shape["member"]["shape"]) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _from_json(v, shape["value"]["shape"]) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return value


def check_input(params: Params, shape_name: str) -> None:
    """Refuse, as the service would, a request that breaks the model anywhere."""
    violations = validate(params, shape_name)
    if violations:
        details = "; ".join(
            f"value at '{'.'.join(map(str, v.path)) or shape_name}' failed to satisfy constraint: {v.message}"
            for v in violations
        )
        raise _invalid(f"{len(violations)} validation error(s) detected: {details}")


_CREDENTIAL = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/,\s]+/[0-9]{8}/([^/,\s]+)/([^/,\s]+)/aws4_request\s*,")


def signed_region(headers: Headers) -> str:
    """The region a SigV4-signed request is scoped to; unsigned or mis-scoped requests are refused."""
    authorization = headers.get("authorization")
    if not authorization:
        raise ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    match = _CREDENTIAL.match(authorization)
    if match is None:
        raise ServiceError("IncompleteSignatureException", "the Authorization header is not a SigV4 signature", 403)
    signing_name = service_model()["metadata"]["signingName"]
    if match.group(2) != signing_name:
        raise ServiceError("InvalidSignatureException",
                           f"Credential should be scoped to correct service: '{signing_name}'.", 403)  # fmt: skip
    return match.group(1)


# --- The service: the inventory as Image Builder shows it ------------------------------------------


@dataclass(frozen=True, slots=True)
class Build:
    """An inventory image (one build version) with the parts of its ARN."""

    image: Image
    region: str
    account: str
    name_arn: str  # arn:...:image/NAME
    version_arn: str  # arn:...:image/NAME/X.Y.Z
    number: tuple[int, int, int, int]
    order: str  # the position in listings: fixed, but neither chronological nor by version

    @classmethod
    def of(cls, image: Image, seed: int) -> Build:
        """The build of an inventory image (its ARN is a valid build version ARN)."""
        head, resource = image.arn.split(":image/", 1)
        name, version, build = resource.split("/")
        region, account = head.split(":")[3:5]
        number = tuple(int(n) for n in [*version.split("."), build])
        order = hashlib.sha256(f"{seed}:{image.arn}".encode()).hexdigest()
        return cls(image, region, account, f"{head}:image/{name}", f"{head}:image/{name}/{version}",
                   (number[0], number[1], number[2], number[3]), order)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Version:
    """An image version (X.Y.Z) and its builds, as ListImages shows it."""

    arn: str
    builds: tuple[Build, ...]
    order: str


class Service:
    """The simulated service's data and settings: the inventory's builds, page sizes, and the write side."""

    def __init__(self, inventory: Inventory, *, seed: int = 0, max_page_size: int | None = None,
                 execution_seconds: float = DEFAULT_EXECUTION_SECONDS) -> None:  # fmt: skip
        if max_page_size is not None and max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        self.max_page_size = max_page_size
        self.builds = sorted((Build.of(image, seed) for image in inventory.images), key=lambda b: b.order)
        self.seed = seed
        self.file_order = [image.arn for image in inventory.images]
        self.lifecycle = Lifecycle(execution_seconds, seed)

    def build(self, arn: str, region: str) -> Build | None:
        """The build with exactly this ARN, if a request in ``region`` can see it."""
        return next((b for b in self.builds if b.image.arn == arn and b.region == region), None)

    def set_status(self, arn: str, status: str) -> None:
        """Give an image a new status, as a state update that acted does (later reads show it)."""
        for index, build in enumerate(self.builds):  # items are replaced, never added: readers may iterate
            if build.image.arn == arn:
                self.builds[index] = replace(build, image=build.image.model_copy(update={"status": status}))

    def inventory(self) -> Inventory:
        """The inventory as served now, state updates included, in the order of the file."""
        images = {build.image.arn: build.image for build in self.builds}
        return Inventory(images=[images[arn] for arn in self.file_order])

    def in_region(self, region: str) -> list[Build]:
        """The builds a request in ``region`` can see, in listing order."""
        return [build for build in self.builds if build.region == region]

    def versions(self, region: str) -> list[Version]:
        """The image versions a request in ``region`` can see, in listing order."""
        grouped: dict[str, list[Build]] = {}
        for build in self.in_region(region):
            grouped.setdefault(build.version_arn, []).append(build)
        versions = [Version(arn, tuple(builds), hashlib.sha256(f"{self.seed}:{arn}".encode()).hexdigest())
                    for arn, builds in grouped.items()]  # fmt: skip
        return sorted(versions, key=lambda v: v.order)


def iso_date(moment: datetime) -> str:
    """A date as the service writes ``dateCreated`` (a string shape): ``2026-01-05T08:00:00.000Z``."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def output_resources(image: Image) -> Params:
    """The ``OutputResources`` shape: the AMIs, or the container image URIs grouped by region."""
    resources: Params = {}
    if image.type == "AMI" or image.amis:
        resources["amis"] = [ami_shape(image, ami) for ami in image.amis]
    if image.type == "DOCKER" or image.containers:
        by_region: dict[str, list[str]] = {}
        for container in image.containers:
            by_region.setdefault(container.region, []).append(container.uri)
        resources["containers"] = [{"region": region, "imageUris": uris} for region, uris in by_region.items()]
    return resources


def ami_shape(image: Image, ami: Ami) -> Params:
    """The ``Ami`` shape; the inventory has no AMI names, so they are Image Builder's default form."""
    built = image.created.astimezone(UTC)
    return {"region": ami.region, "image": ami.id, "name": f"{image.name} {built:%Y-%m-%dT%H-%M-%S}.000Z",
            "description": f"{image.name} {image.version}", "state": {"status": image.status},
            "accountId": ami.account}  # fmt: skip


def image_shape(build: Build) -> Params:
    """The ``Image`` shape GetImage answers."""
    image = build.image
    shape: Params = {
        "arn": image.arn, "type": image.type, "name": image.name, "version": image.version,
        "platform": PLATFORM, "state": {"status": image.status}, "dateCreated": iso_date(image.created),
        "outputResources": output_resources(image),
    }  # fmt: skip
    if image.tags:  # TagMap has at least one entry
        shape["tags"] = dict(image.tags)
    return shape


def image_summary(build: Build) -> Params:
    """The ``ImageSummary`` shape ListImageBuildVersions answers."""
    return {**image_shape(build), "owner": build.account}


def image_version(version: Version) -> Params:
    """The ``ImageVersion`` shape ListImages answers (dated by its first build)."""
    first = min(version.builds, key=lambda b: b.image.created)
    return {"arn": version.arn, "name": first.image.name, "type": first.image.type,
            "version": version.arn.rsplit("/", 1)[1], "platform": PLATFORM, "owner": first.account,
            "dateCreated": iso_date(first.image.created)}  # fmt: skip


def latest_version_references(build: Build) -> Params:
    """The wildcard ARNs that resolve to the latest build overall, of the major, minor and patch."""
    major, minor, patch, _ = build.number
    base = build.name_arn
    return {"latestVersionArn": f"{base}/x.x.x", "latestMajorVersionArn": f"{base}/{major}.x.x",
            "latestMinorVersionArn": f"{base}/{major}.{minor}.x",
            "latestPatchVersionArn": f"{base}/{major}.{minor}.{patch}"}  # fmt: skip


# --- Filters and pages ---------------------------------------------------------------------------

FilterFields = Mapping[str, Sequence[str]]


def _build_fields(build: Build) -> FilterFields:
    version = build.version_arn.rsplit("/", 1)[1]
    return {"name": [build.image.name], "type": [build.image.type], "platform": [PLATFORM], "osVersion": [],
            "version": [version, build.image.version]}  # fmt: skip


def _version_fields(version: Version) -> FilterFields:
    image = version.builds[0].image
    return {"name": [image.name], "type": [image.type], "platform": [PLATFORM], "osVersion": [],
            "version": [version.arn.rsplit("/", 1)[1]]}  # fmt: skip


FILTERS = ("name", "osVersion", "platform", "type", "version")  # the names both list operations document


def apply_filters(items: Iterable[T], filters: Sequence[Params], fields: Callable[[T], FilterFields]) -> list[T]:
    """The items every filter matches; a filter matches when one of its values does."""
    tests = [_filter_test(f) for f in filters]
    return [item for item in items if all(test(fields(item)) for test in tests)]


def _filter_test(spec: Params) -> Callable[[FilterFields], bool]:
    name, values = spec.get("name"), spec.get("values")
    if name is None or not values:
        raise _invalid("each filter needs a name and at least one value")
    if name not in FILTERS:
        raise _invalid(f"the filter name `{name}` is not supported; use one of {', '.join(FILTERS)}")
    matchers = [_value_matcher(name, value) for value in values]
    return lambda fields: any(match(candidate) for match in matchers for candidate in fields[name])


def _value_matcher(name: str, value: str) -> Callable[[str], bool]:
    if "*" not in value:
        return lambda candidate: candidate == value
    core = value.strip("*")
    if name == "name" and "*" not in core and core and value in (f"{core}*", f"*{core}*"):
        if value.startswith("*"):
            return lambda candidate: core in candidate
        return lambda candidate: candidate.startswith(core)
    raise _invalid(f"the wildcard in `{value}` is not supported: only the name filter takes one, as `web*` or `*web*`")


def paginate(items: Sequence[T], order: Callable[[T], str], params: Params, call: Call,
             service: Service) -> tuple[list[T], str | None]:  # fmt: skip
    """One page of ``items`` (sorted by ``order``) and the token for the next, if any remain."""
    scope = _query_scope(params, call)
    after = _read_token(params.get("nextToken"), scope)
    remaining = [item for item in items if after is None or order(item) > after]
    size = int(params.get("maxResults", DEFAULT_PAGE_SIZE))
    if service.max_page_size is not None:
        size = min(size, service.max_page_size)
    page = remaining[:size]
    return page, (_make_token(scope, order(page[-1])) if len(remaining) > size else None)


def _query_scope(params: Params, call: Call) -> str:
    query = {k: v for k, v in params.items() if k not in ("maxResults", "nextToken")}
    text = json.dumps([call.operation, call.region, query], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _make_token(scope: str, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"scope": scope, "after": after}).encode()).decode()


def _read_token(token: str | None, scope: str) -> str | None:
    if token is None:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as exc:
        raise ServiceError("InvalidPaginationTokenException", "the nextToken is not valid") from exc
    if not isinstance(document, dict) or document.get("scope") != scope or not isinstance(document.get("after"), str):
        raise ServiceError("InvalidPaginationTokenException", "the nextToken does not continue this query")
    return str(document["after"])


# --- The operations ------------------------------------------------------------------------------


def get_image(service: Service, params: Params, call: Call) -> Params:
    """GetImage: a build version ARN, or a version or wildcard ARN resolved to its latest available build."""
    arn = params["imageBuildVersionArn"]
    build = _resolve(service.in_region(call.region), arn)
    if build is None:
        raise ServiceError("ResourceNotFoundException", f"The resource ARN '{arn}' does not exist in {call.region}.")
    return {"image": image_shape(build), "latestVersionReferences": latest_version_references(build)}


def _resolve(builds: Sequence[Build], arn: str) -> Build | None:
    if arn.count("/") == 3:  # image/NAME/X.Y.Z/N: one build
        return next((b for b in builds if b.image.arn == arn), None)
    name_arn, _, version = arn.rpartition("/")
    nodes = version.split(".")
    fixed = tuple(int(n) for n in nodes if n != "x")
    if nodes[len(fixed) :] != ["x"] * (3 - len(fixed)):
        raise _invalid(f"in `{version}`, every node right of a wildcard must be a wildcard too")
    candidates = [b for b in builds if b.name_arn == name_arn and b.image.status == "AVAILABLE"
                  and b.number[: len(fixed)] == fixed]  # fmt: skip
    return max(candidates, key=lambda b: b.number, default=None)


def list_image_build_versions(service: Service, params: Params, call: Call) -> Params:
    """ListImageBuildVersions: the builds of one image version (or of every image), a page at a time."""
    builds = service.in_region(call.region)
    if "imageVersionArn" in params:
        builds = [b for b in builds if b.version_arn == params["imageVersionArn"]]
    builds = apply_filters(builds, params.get("filters", []), _build_fields)
    page, token = paginate(builds, lambda b: b.order, params, call, service)
    return _with_token({"imageSummaryList": [image_summary(b) for b in page]}, token)


def list_images(service: Service, params: Params, call: Call) -> Params:
    """ListImages: the image versions (X.Y.Z), or with ``byName`` the latest version of each name."""
    if params.get("byName") and any(f.get("name") == "version" for f in params.get("filters", [])):
        raise _invalid("byName cannot be combined with the version filter")
    versions = service.versions(call.region) if params.get("owner", "Self") == "Self" else []
    versions = apply_filters(versions, params.get("filters", []), _version_fields)
    if params.get("byName"):
        versions = _latest_by_name(versions)
    page, token = paginate(versions, lambda v: v.order, params, call, service)
    return _with_token({"imageVersionList": [image_version(v) for v in page]}, token)


def _latest_by_name(versions: Sequence[Version]) -> list[Version]:
    latest: dict[str, Version] = {}
    for version in versions:
        name_arn = version.builds[0].name_arn
        if name_arn not in latest or version.builds[0].number > latest[name_arn].builds[0].number:
            latest[name_arn] = version
    return sorted(latest.values(), key=lambda v: v.order)


def _with_token(result: Params, token: str | None) -> Params:
    return {**result, "nextToken": token} if token else result


# --- The write side: StartResourceStateUpdate and the lifecycle executions it starts -------------

ACTIONS = {"AVAILABLE": "AVAILABLE", "DEPRECATED": "DEPRECATE", "DISABLED": "DISABLE", "DELETED": "DELETE"}
BUILDING = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"})
UNIT_DAYS = {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}  # the endpoint's reading of lastLaunched


@dataclass(frozen=True, slots=True)
class Impact:
    """A resource an execution acts on (or skips), as ListLifecycleExecutionResources lists it."""

    parent: str | None  # None: an Image Builder image (top level); else the image ARN it belongs to
    resource_id: str
    region: str
    account: str
    outcome: str  # the resource's status once the execution has ended: SUCCESS or SKIPPED
    reason: str | None = None
    snapshots: tuple[str, ...] = ()  # an AMI's snapshots, when they are included
    image_uris: tuple[str, ...] = ()  # a container's URIs


@dataclass(frozen=True, slots=True)
class Execution:
    """A lifecycle execution: it runs for ``seconds`` from ``started_at`` (monotonic), then succeeds."""

    id: str
    arn: str
    region: str
    action: str
    started: datetime
    started_at: float
    seconds: float
    impacts: tuple[Impact, ...]

    def done(self, now: float | None = None) -> bool:
        """Whether the execution has ended by ``now`` (a ``time.monotonic()`` reading; default: now)."""
        return (time.monotonic() if now is None else now) - self.started_at >= self.seconds

    @property
    def ended(self) -> datetime:
        """When the execution ends (or ended)."""
        return self.started + timedelta(seconds=self.seconds)


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What a client token was first accepted with, and the answer it got."""

    fingerprint: str
    answer: Params


class Lifecycle:
    """The write side of the service: accepted client tokens and the executions they started."""

    def __init__(self, execution_seconds: float, seed: int) -> None:
        if execution_seconds < 0:
            raise ValueError("execution_seconds must not be negative")
        self.execution_seconds = execution_seconds
        self.accepted: list[Params] = []  # one request per accepted client token, in order
        self.tokens: dict[str, Acceptance] = {}
        self.executions: dict[str, Execution] = {}
        self.latest: dict[str, Execution] = {}  # the last execution of each image, by ARN
        self.lock = threading.Lock()  # held from the token check to the end of acting
        self._ids = random.Random(f"lifecycle-execution-ids:{seed}")

    def replay(self, params: Params, region: str) -> Params | None:
        """The original answer if this client token was accepted before with the same parameters."""
        token = params["clientToken"]
        known = self.tokens.get(token)
        if known is None:
            return None
        if known.fingerprint != _fingerprint(params, region):
            raise ServiceError("IdempotentParameterMismatchException",
                               f"The client token '{token}' was already used with different parameters.")  # fmt: skip
        return dict(known.answer)

    def running(self, arn: str) -> Execution | None:
        """The execution in progress for the image ``arn``, if any."""
        execution = self.latest.get(arn)
        return execution if execution is not None and not execution.done() else None

    def start(self, build: Build, action: str, impacts: Sequence[Impact], started: datetime) -> Execution:
        """Start a lifecycle execution for ``build``."""
        execution_id = f"lce-{uuid.UUID(int=self._ids.getrandbits(128), version=4)}"
        execution = Execution(execution_id, build.image.arn, build.region, action, started, time.monotonic(),
                              self.execution_seconds, tuple(impacts))  # fmt: skip
        self.executions[execution.id] = execution
        self.latest[execution.arn] = execution
        return execution

    def accept(self, params: Params, region: str, answer: Params) -> None:
        """Remember the client token's request and answer."""
        self.tokens[params["clientToken"]] = Acceptance(_fingerprint(params, region), answer)
        self.accepted.append(params)

    def find(self, execution_id: str, region: str) -> Execution:
        """The execution ``execution_id`` started in ``region``, or ResourceNotFoundException."""
        execution = self.executions.get(execution_id)
        if execution is None or execution.region != region:
            raise ServiceError("ResourceNotFoundException",
                               f"The lifecycle execution '{execution_id}' does not exist in {region}.")  # fmt: skip
        return execution


def _fingerprint(params: Params, region: str) -> str:
    return json.dumps([region, params], sort_keys=True, default=lambda v: _as_datetime(v).isoformat())


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def state_update_refusals(image: Image, params: Params, now: datetime) -> list[str]:
    """Why Image Builder refuses the request, by the rules its documentation states beyond the shapes."""
    status = params["state"].get("status")
    if status is None:
        return ["state.status is required"]
    return [*_request_refusals(params, status, now), *_image_refusals(image, status)]


def _request_refusals(params: Params, status: str, now: datetime) -> Iterator[str]:
    include: Params | None = params.get("includeResources")
    if ("executionRole" in params) != (include is not None):
        yield "executionRole and includeResources go together: neither is valid without the other"
    if include and include.get("snapshots") and not include.get("amis"):
        yield "includeResources.snapshots needs includeResources.amis"
    if include and status != "DELETED" and (include.get("snapshots") or include.get("containers")):
        yield "snapshots and containers can be included only when the target state is DELETED"
    if status == "DELETED" and not (include and any(include.values())):
        yield "to set an image to DELETED, include its underlying resources (DeleteImage deletes the record alone)"
    if "updateAt" in params and status != "DEPRECATED":
        yield "updateAt is valid only when the target status is DEPRECATED"
    elif "updateAt" in params and _as_datetime(params["updateAt"]) <= now:
        yield "updateAt must be a future time"


def _image_refusals(image: Image, status: str) -> Iterator[str]:
    current = image.status
    if current == "DELETED":
        yield f"the image {image.arn} is DELETED"
    elif current in BUILDING:
        yield f"the image {image.arn} is {current}: its state can change only once the build has ended"
    elif current in ("FAILED", "CANCELLED") and status != "DELETED":
        yield f"a {current} image can transition only to DELETED"
    elif image.type == "DOCKER" and status != "DELETED":
        yield "a container image can only be DELETED"


def exclusion_reason(ami: Ami, rules: Params, at: datetime) -> str | None:
    """Why the exclusion rules skip ``ami`` at ``at``: the first criterion that matches, or None.

    Criteria are checked in the order region, public, tag, shared accounts, last launched; an AMI
    never launched is not excluded by ``lastLaunched``, months count 30 days and years 365.
    """
    if ami.region in rules.get("regions", []):
        return f"region {ami.region} is in regions"
    if rules.get("isPublic") and ami.public:
        return "the AMI is public"
    tags = [f"{key}={value}" for key, value in sorted(rules.get("tagMap", {}).items()) if ami.tags.get(key) == value]
    if tags:
        return f"the AMI has the tag {tags[0]}"
    shared = sorted(set(ami.shared_accounts) & set(rules.get("sharedAccounts", [])))
    if shared:
        return f"the AMI is shared with {shared[0]}"
    launched = rules.get("lastLaunched")
    if launched and ami.last_launched is not None:
        window = timedelta(days=launched["value"] * UNIT_DAYS[launched["unit"]])
        if ami.last_launched >= at - window:
            return f"the AMI was launched within {launched['value']} {launched['unit']}"
    return None


def state_update_impacts(build: Build, params: Params, at: datetime) -> list[Impact]:
    """The resources a state update reaches: the image first, then its included AMIs and containers."""
    image, include = build.image, params.get("includeResources", {})
    rules = params.get("exclusionRules", {}).get("amis", {})
    children: list[Impact] = []
    if include.get("amis"):
        children += [_ami_impact(build, ami, bool(include.get("snapshots")), exclusion_reason(ami, rules, at))
                     for ami in image.amis]  # fmt: skip
    if include.get("containers"):
        children += [Impact(image.arn, c.uri, c.region, build.account, "SUCCESS", image_uris=(c.uri,))
                     for c in image.containers]  # fmt: skip
    skipped = [child.resource_id for child in children if child.outcome == "SKIPPED"]
    if params["state"]["status"] == "DELETED" and skipped:  # the image record is retained with its AMIs
        record = Impact(None, image.arn, build.region, build.account, "SKIPPED",
                        f"retained because {', '.join(skipped)} was excluded")  # fmt: skip
    else:
        record = Impact(None, image.arn, build.region, build.account, "SUCCESS")
    return [record, *children]


def _ami_impact(build: Build, ami: Ami, snapshots: bool, excluded: str | None) -> Impact:
    outcome = "SKIPPED" if excluded else "SUCCESS"
    return Impact(build.image.arn, ami.id, ami.region, ami.account, outcome, excluded,
                  tuple(ami.snapshots) if snapshots else ())  # fmt: skip


def start_resource_state_update(service: Service, params: Params, call: Call) -> Params:
    """StartResourceStateUpdate: act once per client token; a replay gets the original answer."""
    lifecycle = service.lifecycle
    with lifecycle.lock:
        replay = lifecycle.replay(params, call.region)
        if replay is not None:
            return replay
        build = _target(service, params["resourceArn"], call.region)
        now = datetime.now(UTC)
        refusals = state_update_refusals(build.image, params, now)
        if refusals:
            raise _invalid("; ".join(refusals))
        running = lifecycle.running(build.image.arn)
        if running is not None:
            raise ServiceError("ResourceInUseException", f"The image {build.image.arn} has the lifecycle execution"
                               f" {running.id} in progress; retry when it has ended.")  # fmt: skip
        answer = _act(service, build, params, now)
        lifecycle.accept(params, call.region, answer)
        return dict(answer)


def _target(service: Service, arn: str, region: str) -> Build:
    build = service.build(arn, region)
    if build is None:
        raise ServiceError("ResourceNotFoundException", f"The resource ARN '{arn}' does not exist in {region}.")
    return build


def _act(service: Service, build: Build, params: Params, now: datetime) -> Params:
    """Change the image's status and, for included resources or a scheduled update, start an execution."""
    status = params["state"]["status"]
    impacts = state_update_impacts(build, params, _as_datetime(params.get("updateAt", now)))
    if impacts[0].outcome == "SUCCESS":
        service.set_status(build.image.arn, status)
    answer: Params = {"resourceArn": build.image.arn}
    if "includeResources" in params or "updateAt" in params:
        execution = service.lifecycle.start(build, ACTIONS[status], impacts, now)
        answer = {"lifecycleExecutionId": execution.id, **answer}
    return answer


def get_lifecycle_execution(service: Service, params: Params, call: Call) -> Params:
    """GetLifecycleExecution: IN_PROGRESS until the execution's time has passed, then SUCCESS."""
    execution = service.lifecycle.find(params["lifecycleExecutionId"], call.region)
    return {"lifecycleExecution": lifecycle_execution_shape(execution, execution.done())}


def lifecycle_execution_shape(execution: Execution, done: bool) -> Params:
    """The ``LifecycleExecution`` shape."""
    impacted = any(impact.outcome == "SUCCESS" for impact in execution.impacts)
    shape: Params = {"lifecycleExecutionId": execution.id, "state": {"status": _execution_status(done)},
                     "resourcesImpactedSummary": {"hasImpactedResources": impacted},
                     "startTime": execution.started}  # fmt: skip
    if done:
        shape["endTime"] = execution.ended
    return shape


def list_lifecycle_execution_resources(service: Service, params: Params, call: Call) -> Params:
    """ListLifecycleExecutionResources: the image (top level), or with ``parentResourceId`` its AMIs and containers."""
    execution = service.lifecycle.find(params["lifecycleExecutionId"], call.region)
    parent = params.get("parentResourceId")
    listed = [(f"{n:06d}", impact) for n, impact in enumerate(execution.impacts) if impact.parent == parent]
    page, token = paginate(listed, lambda item: item[0], params, call, service)
    done = execution.done()
    result = {"lifecycleExecutionId": execution.id, "lifecycleExecutionState": {"status": _execution_status(done)},
              "resources": [execution_resource_shape(execution, impact, done) for _, impact in page]}  # fmt: skip
    return _with_token(result, token)


def _execution_status(done: bool) -> str:
    return "SUCCESS" if done else "IN_PROGRESS"


def execution_resource_shape(execution: Execution, impact: Impact, done: bool) -> Params:
    """The ``LifecycleExecutionResource`` shape of one impact."""
    state = _resource_state(impact.outcome if done else "IN_PROGRESS", impact.reason)
    shape: Params = {"accountId": impact.account, "resourceId": impact.resource_id, "region": impact.region,
                     "state": state, "action": {"name": execution.action}, "startTime": execution.started}  # fmt: skip
    if impact.snapshots:
        shape["snapshots"] = [{"snapshotId": snapshot, "state": _resource_state(state["status"], None)}
                              for snapshot in impact.snapshots]  # fmt: skip
    if impact.image_uris:
        shape["imageUris"] = list(impact.image_uris)
    if done:
        shape["endTime"] = execution.ended
    return shape


def _resource_state(status: str, reason: str | None) -> Params:
    return {"status": status, "reason": reason} if reason and status != "IN_PROGRESS" else {"status": status}


OPERATIONS: dict[str, Handler] = {
    "GetImage": get_image,
    "ListImageBuildVersions": list_image_build_versions,
    "ListImages": list_images,
    "StartResourceStateUpdate": start_resource_state_update,
    "GetLifecycleExecution": get_lifecycle_execution,
    "ListLifecycleExecutionResources": list_lifecycle_execution_resources,
}


# --- Faults: throttling, server errors, dropped, cut, garbled and slow answers, on demand --------

SERVER_ERRORS = ("ServiceException", "ServiceUnavailableException")  # 500 and 503 in the model
NOT_JSON_KINDS = ("html-200", "html-502", "truncated-json", "empty-200", "null-200", "html-br")
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>\n"
             b"<body><h1>Sign in to the network</h1><p>Accept the terms to continue.</p></body></html>\n")  # fmt: skip
BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults an endpoint injects, deterministic given its seed (for the same order of requests).

    * ``rate_limit``: requests per second a token bucket of ``burst`` requests lets through (``None``:
      no limit); beyond it, HTTP 429 ``CallRateLimitExceededException``, without acting.
    * ``error_rate_before``: the share of requests answered 500 ``ServiceException`` or 503
      ``ServiceUnavailableException`` without acting.
    * ``error_rate_after``: the share acted upon, then answered 500 or 503 (a retry with the same
      client token gets the original answer).
    * ``drop_rate``: the share whose connection is closed without an answer.
    * ``cut_rate``: the share answered with the status line, the headers (with the answer's whole
      ``Content-Length``) and the first half of the body, then the connection is closed. Before
      acting the answer cut is a 500 or 503; after acting, the service's own answer.
    * ``not_json_rate``: the share answered with a body that is not JSON, of one of
      ``not_json_kinds`` (each takes an equal part of the share): ``html-200``, an HTML page with
      status 200 (a captive portal); ``html-502``, a proxy's HTML "502 Bad Gateway" page;
      ``truncated-json``, the answer's JSON cut in half with a ``Content-Length`` that matches (after
      acting, the service's answer with status 200; before, a 500 or 503); ``empty-200``, status 200
      and no body; ``null-200``, status 200 and the JSON ``null``; ``html-br``, an HTML page with
      status 200 that claims ``Content-Encoding: br``. The last three are not in the default kinds.
    * ``slow_rate``: the share answered only after ``slow_seconds`` more (set it past the client's
      read timeout): before acting the request waits, then is handled; after acting the answer waits.
    * ``after_share``: the share of drops, cuts, non-JSON and slow answers that come after acting
      (default half; 1.0: all of them, 0.0: none). Acting means exactly what an answer would have
      reported: a retry with the same client token gets the original answer.
    * ``delay``: seconds to wait before answering (after acting).
    * ``fault_operations``: the operations the faults apply to (only StartResourceStateUpdate by default).

    Each request the faults apply to takes two random draws: one picks the fault (drops, errors
    before, errors after, cuts, non-JSON answers, slow answers, by their shares in that order), the
    other whether it comes after acting and which server error it uses.
    """

    rate_limit: float | None = None
    burst: int = 1
    error_rate_before: float = 0.0
    error_rate_after: float = 0.0
    drop_rate: float = 0.0
    delay: float = 0.0
    fault_operations: AbstractSet[str] = frozenset({"StartResourceStateUpdate"})
    cut_rate: float = 0.0
    not_json_rate: float = 0.0
    not_json_kinds: Sequence[str] = NOT_JSON_KINDS[:3]
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    after_share: float = 0.5

    def __post_init__(self) -> None:
        rates = {"error_rate_before": self.error_rate_before, "error_rate_after": self.error_rate_after,
                 "drop_rate": self.drop_rate, "cut_rate": self.cut_rate, "not_json_rate": self.not_json_rate,
                 "slow_rate": self.slow_rate}  # fmt: skip
        for name, rate in {**rates, "after_share": self.after_share}.items():
            if not 0 <= rate <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if sum(rates.values()) > 1:
            raise ValueError(f"{', '.join(rates)} add up to more than 1")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(f"rate_limit must be positive (or None for no limit), not {self.rate_limit}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")
        if self.delay < 0 or self.slow_seconds < 0:
            raise ValueError(f"delay and slow_seconds must not be negative, not {self.delay}, {self.slow_seconds}")
        unknown = sorted(set(self.fault_operations) - set(OPERATIONS))
        if unknown:
            raise ValueError(f"fault_operations: {', '.join(unknown)} not served; served: {', '.join(OPERATIONS)}")
        kinds = tuple(self.not_json_kinds)
        if not kinds or set(kinds) - set(NOT_JSON_KINDS) or len(set(kinds)) != len(kinds):
            raise ValueError(f"not_json_kinds: {kinds} is not a non-empty selection of {', '.join(NOT_JSON_KINDS)}")
        object.__setattr__(self, "fault_operations", frozenset(self.fault_operations))
        object.__setattr__(self, "not_json_kinds", kinds)


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; it starts full."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> bool:
        """Take a token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request: what replaces the answer (if anything), and the waits around it."""

    error: ServiceError | None = None  # the error answer given instead (and cut, or garbled, before acting)
    drop: bool = False  # no answer at all: the connection is closed
    cut: bool = False  # the answer stops halfway through its body and the connection is closed
    not_json: str | None = None  # one of NOT_JSON_KINDS: the answer is replaced by a body that is not JSON
    slow: bool = False  # answered late: ``stall`` before acting or ``delay`` after
    after: bool = False  # the request is handled (the service acts) before the fault
    delay: float = 0.0  # seconds to wait after handling, before answering
    stall: float = 0.0  # seconds to wait before handling (slow before acting)

    @property
    def before(self) -> bool:
        """Whether the request is refused (or dropped, cut, garbled) without being handled."""
        return (self.error is not None or self.drop) and not self.after

    def reply(self, request_id: str, answer: Reply | None = None) -> Reply:
        """The answer that replaces the service's ``answer`` (None: the service did not act)."""
        if self.drop:
            return DROPPED
        if self.error is None and answer is not None:  # late, not replaced
            return answer
        if answer is not None and (self.cut or self.not_json):  # after acting: the service's answer, spoilt
            base = answer
        else:
            base = _error_reply(self.error or ServiceError(SERVER_ERRORS[0], "An injected fault."), request_id)
        if self.cut:
            return replace(base, cut=True)
        if self.not_json == "html-200":
            return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, HTML_PAGE)
        if self.not_json == "html-502":
            return Reply(502, {"Content-Type": "text/html", "Server": "proxy"}, BAD_GATEWAY)
        if self.not_json == "truncated-json":
            return replace(base, body=base.body[: len(base.body) // 2])
        if self.not_json in ("empty-200", "null-200"):
            return Reply(200, {"Content-Type": "application/json"}, b"" if self.not_json == "empty-200" else b"null")
        if self.not_json == "html-br":
            return Reply(200, {"Content-Type": "text/html", "Content-Encoding": "br"}, HTML_PAGE)
        return base


NO_FAULT = Decision()


class FaultInjector:
    """Decides, request by request, which fault to inject; counts what it served."""

    KINDS = ("throttled", "errors", "dropped", "cut", "not_json", "slow")

    def __init__(self, faults: Faults, seed: int) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._counts = dict.fromkeys(self.KINDS, 0)
        self.faults = faults
        self._bucket = _bucket(faults)

    def configure(self, faults: Faults) -> None:
        """Switch to other faults (a full token bucket; the random sequence goes on)."""
        with self._lock:
            self.faults, self._bucket = faults, _bucket(faults)

    def decide(self, operation: str) -> Decision:
        """The fault for the next request of ``operation``: two random draws per request it applies to."""
        with self._lock:
            faults = self.faults
            if operation not in faults.fault_operations:
                return NO_FAULT
            roll, flip = self._random.random(), self._random.random()
            if self._bucket is not None and not self._bucket.take():
                error = ServiceError("CallRateLimitExceededException", "Rate exceeded; retry with an increasing delay.")
                return Decision(error, delay=faults.delay)
            decision = _decision(faults, roll, flip)
            if decision.slow:  # counted now: the client gives up before the answer is served
                self._counts["slow"] += 1
            return decision

    def count(self, reply: Reply, decision: Decision = NO_FAULT) -> None:
        """Count a 429, a 500 or 503, a dropped connection, or a cut or non-JSON answer."""
        if decision.cut or decision.not_json:
            kind: str | None = "cut" if decision.cut else "not_json"
        elif reply.drop:
            kind = "dropped"
        else:
            kind = {429: "throttled", 500: "errors", 503: "errors"}.get(reply.status)
        if kind is not None:
            with self._lock:
                self._counts[kind] += 1

    def counts(self) -> dict[str, int]:
        """How many of each fault was served, by kind (``KINDS``)."""
        with self._lock:
            return dict(self._counts)


def _bucket(faults: Faults) -> TokenBucket | None:
    return None if faults.rate_limit is None else TokenBucket(faults.rate_limit, faults.burst)


def _decision(faults: Faults, roll: float, flip: float) -> Decision:
    """Drops, errors before, errors after, cuts, non-JSON answers, slow answers, by the share of ``roll`` each takes."""
    error = ServiceError(SERVER_ERRORS[flip >= 0.5], "An injected server error: retrying the request may succeed.")
    after = flip >= 1 - faults.after_share
    if roll < faults.drop_rate:
        return Decision(drop=True, after=after, delay=faults.delay)
    roll -= faults.drop_rate
    if roll < faults.error_rate_before:
        return Decision(error, delay=faults.delay)
    roll -= faults.error_rate_before
    if roll < faults.error_rate_after:
        return Decision(error, after=True, delay=faults.delay)
    roll -= faults.error_rate_after
    if roll < faults.cut_rate:
        return Decision(error, cut=True, after=after, delay=faults.delay)
    roll -= faults.cut_rate
    if roll < faults.not_json_rate:
        kinds = faults.not_json_kinds
        kind = kinds[min(len(kinds) - 1, int(roll / faults.not_json_rate * len(kinds)))]
        return Decision(error, not_json=kind, after=after, delay=faults.delay)
    roll -= faults.not_json_rate
    if roll < faults.slow_rate:
        slow = faults.slow_seconds
        return Decision(slow=True, after=after, delay=faults.delay + (slow if after else 0.0),
                        stall=0.0 if after else slow)  # fmt: skip
    return Decision(delay=faults.delay)


# --- Serving: one request to one answer, then the HTTP server around it --------------------------


@dataclass(frozen=True, slots=True)
class Received:
    """A request as the endpoint received it: ``path`` with its query string, header names lower-cased."""

    operation: str
    params: Params
    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer, or with ``drop`` none at all: the connection is closed instead.

    With ``cut``, the status line and the headers (``Content-Length`` the whole body's) are sent, then
    the first half of the body, then the connection is closed.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False
    cut: bool = False


DROPPED = Reply(0, {}, b"", drop=True)


@dataclass
class Backend:
    """The protocol around the service: routes, decodes, checks, records and answers requests, injects faults."""

    service: Service
    log: Callable[[str], None] | None = None
    table: dict[tuple[str, str], Operation] = field(default_factory=lambda: operation_table(OPERATIONS))
    requests: list[tuple[str, Params]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    injector: FaultInjector = field(default_factory=lambda: FaultInjector(Faults(), 0))
    stopping: threading.Event = field(default_factory=threading.Event)  # set on close: ends delays early

    def respond(self, method: str, target: str, headers: Headers, body: bytes) -> Reply:
        """The answer to one HTTP request, errors and injected faults included."""
        reply, decision = self._respond(method, target, headers, body, str(uuid.uuid4()))
        self.injector.count(reply, decision)
        if decision.delay:
            self.stopping.wait(decision.delay)
        return reply

    def _respond(self, method: str, target: str, headers: Headers, body: bytes,
                 request_id: str) -> tuple[Reply, Decision]:  # fmt: skip
        received = self._guarded(request_id, lambda: self._receive(method, target, headers, body))
        if isinstance(received, Reply):
            return received, NO_FAULT
        operation, params, region = received
        decision = self.injector.decide(operation.name)
        if decision.stall:  # slow before acting: the request is handled after the wait
            self.stopping.wait(decision.stall)
        if decision.before:
            return decision.reply(request_id), decision
        reply = self._guarded(request_id, lambda: self._handle(operation, params, region, request_id))
        return (decision.reply(request_id, reply) if decision.after else reply), decision

    def _guarded(self, request_id: str, work: Callable[[], T]) -> T | Reply:
        """What ``work`` returns, or the error answer for what it raised."""
        try:
            return work()
        except ServiceError as exc:
            return _error_reply(exc, request_id)
        except Exception:
            if self.log is not None:
                self.log(traceback.format_exc())
            return _error_reply(ServiceError("ServiceException", "internal error in the test endpoint"), request_id)

    def _receive(self, method: str, target: str, headers: Headers, body: bytes) -> tuple[Operation, Params, str]:
        """The operation, its parameters (recorded) and the region the request is signed for."""
        url = urlsplit(target)
        operation = self.table.get((method, url.path))
        if operation is None:
            raise ServiceError("UnknownOperationException", f"no operation is served at {method} {url.path}", 404)
        params = decode_input(operation.input_shape, parse_qs(url.query, keep_blank_values=True), headers, body)
        self._record(Received(operation.name, params, method, target, dict(headers)))
        return operation, params, signed_region(headers)

    def _handle(self, operation: Operation, params: Params, region: str, request_id: str) -> Reply:
        check_input(params, operation.input_shape)
        result = operation.handler(self.service, params, Call(operation.name, region, request_id))
        return _json_reply(200, _with_request_id(result, operation, request_id), request_id)

    def _record(self, received: Received) -> None:
        with self.lock:
            self.requests.append((received.operation, received.params))
            self.received.append(received)


def _with_request_id(result: Params, operation: Operation, request_id: str) -> Params:
    members = service_model()["shapes"][operation.output_shape]["members"] if operation.output_shape else {}
    return {"requestId": request_id, **result} if "requestId" in members else result


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):  # rest-json timestamps: epoch seconds
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_reply(status: int, document: Params, request_id: str, extra: Headers | None = None) -> Reply:
    body = json.dumps(document, default=_json_default).encode()
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, **(extra or {})}
    return Reply(status, headers, body)


def _error_reply(error: ServiceError, request_id: str) -> Reply:
    return _json_reply(error.status, {"message": error.message}, request_id, {"x-amzn-ErrorType": error.code})


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as botocore's connection pool expects; every answer from the backend."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle kept-alive connection is closed after this many seconds
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK
    server: _Server

    def do_GET(self) -> None:
        """Answer any method alike: the backend routes by method and path."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.backend.respond(self.command, self.path, headers, body)
        if reply.drop:  # no answer: the server closes the connection
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.cut:  # part of the body, then the connection closes: fewer bytes than Content-Length said
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Log to the backend's log, if any (silent in tests)."""
        if self.server.backend.log is not None:
            self.server.backend.log(f"{self.address_string()} {format % args}")


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that can close its kept-alive connections and join their threads."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, then serve it in a thread."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection and close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log to the backend's log, if any, instead of printing: clients hang up (after a read timeout, say)."""
        if self.backend.log is not None:
            self.backend.log(traceback.format_exc())

    def close_connections(self) -> None:
        """Shut down every open connection, so that the threads serving them end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


# --- The public face -----------------------------------------------------------------------------


class ImageBuilderEndpoint:
    """A loopback Image Builder endpoint on 127.0.0.1 serving an inventory, in a background thread.

    ``requests`` lists ``(operation, params)`` in the order received; ``received`` has the same
    requests with their method, path and headers; ``accepted`` has one StartResourceStateUpdate
    request per client token the service acted on. ``faults`` (a ``Faults``) can be replaced while
    serving; ``stats`` and ``injected`` count what was served. Use it as a context manager, or
    ``start``/``close``.
    """

    def __init__(self, inventory: Inventory | str | os.PathLike[str], *, port: int = 0, seed: int = 0,
                 max_page_size: int | None = None, log: Callable[[str], None] | None = None,
                 faults: Faults | None = None,
                 execution_seconds: float = DEFAULT_EXECUTION_SECONDS) -> None:  # fmt: skip
        loaded = inventory if isinstance(inventory, Inventory) else load_inventory(os.fspath(inventory))
        self._service = Service(loaded, seed=seed, max_page_size=max_page_size, execution_seconds=execution_seconds)
        self._backend = Backend(self._service, log, injector=FaultInjector(faults or Faults(), seed))
        self.requests = self._backend.requests
        self.received = self._backend.received
        self.accepted = self._service.lifecycle.accepted
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def inventory(self) -> Inventory:
        """The inventory as served now: the file's, with the statuses that state updates changed."""
        return self._service.inventory()

    @property
    def faults(self) -> Faults:
        """The faults injected; assign other ``Faults`` to change them while serving."""
        return self._backend.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._backend.injector.configure(faults)

    @property
    def execution_seconds(self) -> float:
        """How long each lifecycle execution runs (for executions started from now on when set)."""
        return self._service.lifecycle.execution_seconds

    @execution_seconds.setter
    def execution_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("execution_seconds must not be negative")
        self._service.lifecycle.execution_seconds = seconds

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of what was served: ``throttled``, ``errors``, ``dropped``, ``accepted``.

        The 429s, the 500s and 503s, the connections closed without an answer, and the number of
        distinct client tokens acted on.
        """
        counts = self._backend.injector.counts()
        return {"throttled": counts["throttled"], "errors": counts["errors"], "dropped": counts["dropped"],
                "accepted": len(self.accepted)}  # fmt: skip

    @property
    def injected(self) -> dict[str, int]:
        """A snapshot of every fault served, by kind.

        ``throttled``, ``errors``, ``dropped`` as in ``stats``; ``cut`` (answers cut off mid-body),
        ``not_json`` (replaced by a body that is not JSON) and ``slow`` (answered late).
        """
        return self._backend.injector.counts()

    @property
    def url(self) -> str:
        """The endpoint URL, ``http://127.0.0.1:PORT``, to give boto3 as ``endpoint_url``."""
        if self._server is None:
            raise RuntimeError("the endpoint is not running: use it in a `with` block or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ImageBuilderEndpoint:
        """Listen on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the endpoint is already running")
        self._backend.stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), self._backend)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"imagebuilder-endpoint-{self.url}", daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, close the port and every connection, and join the threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._backend.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> ImageBuilderEndpoint:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def client(self, region: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 Image Builder client for this endpoint, with dummy credentials and no proxy.

        ``kwargs`` go to ``Session.client`` (a ``config`` is merged over the defaults).
        """
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        config = Config(proxies={})
        if "config" in kwargs:
            config = config.merge(kwargs.pop("config"))
        session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
        return session.client("imagebuilder", endpoint_url=self.url, config=config, **kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve an inventory until interrupted: ``python -m policyengine.testing.endpoint --inventory FILE``."""
    parser = argparse.ArgumentParser(
        prog="python -m policyengine.testing.endpoint",
        description="A loopback EC2 Image Builder endpoint serving an inventory file.",
    )
    parser.add_argument("--inventory", required=True, help="the inventory file (docs/cli.md)")
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--max-page-size", type=int, default=None, help="serve list pages no longer than this")
    parser.add_argument("--seed", type=int, default=0, help="changes the order of list results and the faults drawn")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    _add_fault_arguments(parser)
    args = parser.parse_args(argv)
    log = None if args.quiet else _log_to_stderr
    try:
        faults = Faults(rate_limit=args.rate_limit, burst=args.burst, error_rate_before=args.error_rate_before,
                        error_rate_after=args.error_rate_after, drop_rate=args.drop_rate, delay=args.delay,
                        cut_rate=args.cut_rate, not_json_rate=args.not_json_rate, slow_rate=args.slow_rate,
                        slow_seconds=args.slow_seconds, after_share=args.after_share)  # fmt: skip
        endpoint = ImageBuilderEndpoint(args.inventory, port=args.port, seed=args.seed,
                                        max_page_size=args.max_page_size, log=log, faults=faults,
                                        execution_seconds=args.execution_seconds).start()  # fmt: skip
    except InventoryError as exc:
        for diagnostic in exc.diagnostics:
            print(f"error: {diagnostic.message}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        print(f"Image Builder endpoint on {endpoint.url}, serving {len(endpoint.inventory.images)} image builds"
              f" from {args.inventory}; Ctrl-C or SIGTERM stops it.\n  try: aws imagebuilder list-images"
              f" --endpoint-url {endpoint.url} --region us-east-1", flush=True)  # fmt: skip
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        endpoint.close()
    return 0


def _add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """The options for ``Faults`` (StartResourceStateUpdate only) and the length of executions."""
    group = parser.add_argument_group("faults (StartResourceStateUpdate only)")
    group.add_argument("--rate-limit", type=float, default=None, metavar="PER_SECOND",
                       help="answer 429 CallRateLimitExceededException beyond this many requests a second")  # fmt: skip
    group.add_argument("--burst", type=int, default=1, help="requests the rate limit lets through at once (default 1)")
    shares = {
        "--error-rate-before": "answer this share of requests 500 or 503 without acting",
        "--error-rate-after": "act on this share of requests, then answer 500 or 503",
        "--drop-rate": "close the connection unanswered for this share",
        "--cut-rate": "send this share of answers half-way, then close the connection",
        "--not-json-rate": "answer this share with an HTML page (200 or 502) or truncated JSON",
        "--slow-rate": "answer this share --slow-seconds late",
    }
    for option, meaning in shares.items():
        group.add_argument(option, type=float, default=0.0, metavar="SHARE", help=meaning)
    group.add_argument("--slow-seconds", type=float, default=0.0, metavar="SECONDS", help="how late a slow answer is")
    group.add_argument("--after-share", type=float, default=0.5, metavar="SHARE",
                       help="the share of drops, cuts, non-JSON and slow answers after acting")  # fmt: skip
    group.add_argument("--delay", type=float, default=0.0, metavar="SECONDS", help="wait this long before answering")
    parser.add_argument("--execution-seconds", type=float, default=DEFAULT_EXECUTION_SECONDS, metavar="SECONDS",
                        help=f"how long lifecycle executions run (default {DEFAULT_EXECUTION_SECONDS})")  # fmt: skip


def _log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
