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
botocore. This version serves the read calls GetImage, ListImageBuildVersions and ListImages.

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
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    """The simulated service's data and settings: the inventory's builds, page sizes."""

    def __init__(self, inventory: Inventory, *, seed: int = 0, max_page_size: int | None = None) -> None:
        if max_page_size is not None and max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        self.max_page_size = max_page_size
        self.builds = sorted((Build.of(image, seed) for image in inventory.images), key=lambda b: b.order)
        self.seed = seed

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


OPERATIONS: dict[str, Handler] = {
    "GetImage": get_image,
    "ListImageBuildVersions": list_image_build_versions,
    "ListImages": list_images,
}


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
    """An HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Backend:
    """The protocol around the service: routes, decodes, checks, records and answers requests."""

    service: Service
    log: Callable[[str], None] | None = None
    table: dict[tuple[str, str], Operation] = field(default_factory=lambda: operation_table(OPERATIONS))
    requests: list[tuple[str, Params]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, method: str, target: str, headers: Headers, body: bytes) -> Reply:
        """The answer to one HTTP request, errors included."""
        request_id = str(uuid.uuid4())
        try:
            return _json_reply(200, self._answer(method, target, headers, body, request_id), request_id)
        except ServiceError as exc:
            return _error_reply(exc, request_id)
        except Exception:
            if self.log is not None:
                self.log(traceback.format_exc())
            return _error_reply(ServiceError("ServiceException", "internal error in the test endpoint"), request_id)

    def _answer(self, method: str, target: str, headers: Headers, body: bytes, request_id: str) -> Params:
        url = urlsplit(target)
        operation = self.table.get((method, url.path))
        if operation is None:
            raise ServiceError("UnknownOperationException", f"no operation is served at {method} {url.path}", 404)
        params = decode_input(operation.input_shape, parse_qs(url.query, keep_blank_values=True), headers, body)
        self._record(Received(operation.name, params, method, target, dict(headers)))
        region = signed_region(headers)
        check_input(params, operation.input_shape)
        result = operation.handler(self.service, params, Call(operation.name, region, request_id))
        return _with_request_id(result, operation, request_id)

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
        self.send_response(reply.status)
        for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            self.send_header(name, value)
        self.end_headers()
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
    requests with their method, path and headers. Use it as a context manager, or ``start``/``close``.
    """

    def __init__(self, inventory: Inventory | str | os.PathLike[str], *, port: int = 0, seed: int = 0,
                 max_page_size: int | None = None, log: Callable[[str], None] | None = None) -> None:  # fmt: skip
        loaded = inventory if isinstance(inventory, Inventory) else load_inventory(os.fspath(inventory))
        self.inventory = loaded
        self._backend = Backend(Service(loaded, seed=seed, max_page_size=max_page_size), log)
        self.requests = self._backend.requests
        self.received = self._backend.received
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

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
    parser.add_argument("--seed", type=int, default=0, help="changes the order of list results")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    log = None if args.quiet else _log_to_stderr
    try:
        endpoint = ImageBuilderEndpoint(args.inventory, port=args.port, seed=args.seed,
                                        max_page_size=args.max_page_size, log=log).start()  # fmt: skip
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


def _log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
