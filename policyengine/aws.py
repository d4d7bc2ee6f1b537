"""boto3 sessions and clients: the one place (with ``live``) that talks to AWS.

``--region``, ``--profile`` and ``--endpoint-url`` become an ``AwsSettings``; ``Aws`` makes the
session lazily and caches one client per service and region. ``--endpoint-url`` applies to Image
Builder only; every client also honours the standard variables (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_IMAGEBUILDER``, ``AWS_ENDPOINT_URL_EC2``, ...), which botocore reads itself, so no
other client is given an endpoint. boto3 and botocore are imported only when a client is needed.

``aws_errors`` turns what botocore raises (no credentials, an unknown profile, an endpoint that
cannot be reached, an error answer) into a one-line ``PolicyEngineError``, never a traceback.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .constants import PROJECT
from .errors import PolicyEngineError

IMAGEBUILDER = "imagebuilder"
EC2 = "ec2"
MAX_RETRIES = 5  # botocore's max_attempts: retries after the first attempt (throttling, transient errors)
ENV_REGION = "AWS_REGION"  # the AWS CLI's variable; botocore itself reads AWS_DEFAULT_REGION only


@dataclass(frozen=True)
class AwsSettings:
    """The session settings of the command line: ``--region``, ``--profile``, ``--endpoint-url``."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None  # Image Builder only


class Aws:
    """A lazily made boto3 session and its clients, one per (service, region); thread-safe."""

    def __init__(self, settings: AwsSettings | None = None) -> None:
        self.settings = settings or AwsSettings()
        self._session: Any = None
        self._clients: dict[tuple[str, str, int, float], Any] = {}
        self._lock = threading.RLock()

    @property
    def session(self) -> Any:
        """The boto3 session (made on first use); an unknown profile is a PolicyEngineError."""
        with self._lock:
            if self._session is None:
                import boto3  # type: ignore[import-untyped]

                region = self.settings.region or os.environ.get(ENV_REGION) or None
                with aws_errors("AWS session"):
                    self._session = boto3.Session(profile_name=self.settings.profile, region_name=region)
            return self._session

    @property
    def default_region(self) -> str:
        """``--region``, else AWS_REGION, AWS_DEFAULT_REGION or the profile's region."""
        region = self.settings.region or os.environ.get(ENV_REGION) or self.session.region_name
        if not region:
            raise PolicyEngineError("no region: pass --region or set AWS_REGION")
        return str(region)

    def client(self, service: str, region: str | None = None, retries: int = MAX_RETRIES, timeout: float = 60) -> Any:
        """The client of ``service`` in ``region`` (default: ``default_region``), made once.

        ``retries`` is botocore's own retry budget (the dispatcher keeps it small and retries
        with the same client token itself); ``timeout`` bounds connecting and reading.
        """
        region = region or self.default_region
        with self._lock:
            key = (service, region, retries, timeout)
            if key not in self._clients:
                self._clients[key] = self._make_client(service, region, retries, timeout)
            return self._clients[key]

    def _make_client(self, service: str, region: str, retries: int, timeout: float) -> Any:
        from botocore.config import Config  # type: ignore[import-untyped]

        config = Config(
            retries={"mode": "standard", "max_attempts": retries}, user_agent_extra=PROJECT,
            connect_timeout=timeout, read_timeout=timeout,
        )  # fmt: skip
        options: dict[str, Any] = {"region_name": region, "config": config}
        if service == IMAGEBUILDER and self.settings.endpoint_url:
            options["endpoint_url"] = self.settings.endpoint_url
        with aws_errors(f"{service} client in {region}"):
            return self.session.client(service, **options)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of an error answer (a botocore ClientError), else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def error_message(exc: BaseException) -> str:
    """The AWS error message of an error answer, else the exception's text."""
    response = getattr(exc, "response", None)
    message = response.get("Error", {}).get("Message") if isinstance(response, dict) else None
    return str(message) if message else str(exc)


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn botocore's exceptions inside the block into a one-line PolicyEngineError about ``what``."""
    from botocore import exceptions  # type: ignore[import-untyped]

    try:
        yield
    except exceptions.ClientError as exc:
        raise PolicyEngineError(f"{what}: {error_code(exc)}: {error_message(exc)}") from None
    except exceptions.NoCredentialsError:
        raise PolicyEngineError(f"{what}: no AWS credentials found (configure a profile, pass --profile "
                                "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") from None  # fmt: skip
    except exceptions.ProfileNotFound as exc:
        raise PolicyEngineError(f"{what}: the AWS profile `{exc.kwargs.get('profile')}` does not exist "
                                "(check --profile and AWS_PROFILE)") from None  # fmt: skip
    except (exceptions.ConnectionError, exceptions.HTTPClientError) as exc:  # refused, timeouts, TLS, proxy
        raise PolicyEngineError(f"{what}: {exc} (check --endpoint-url, AWS_ENDPOINT_URL* and the network)") from None
    except exceptions.NoRegionError:
        raise PolicyEngineError(f"{what}: no region: pass --region or set AWS_REGION") from None
    except exceptions.BotoCoreError as exc:  # expired SSO token, timeouts, bad config, ...
        raise PolicyEngineError(f"{what}: {exc}") from None
