"""Typed client for the Codemagic REST API at ``https://api.codemagic.io``.

Example::

    from pulumi_codemagic.client import CodemagicClient
    from pulumi_codemagic.models import StartBuildRequest

    with CodemagicClient() as client:  # token from CODEMAGIC_API_TOKEN or CM_API_TOKEN
        build_id = client.start_build(
            StartBuildRequest(app_id="5c9c064185dd2310123b8e96", workflow_id="ios-release",
                              branch="main")
        )
        print(client.get_build(build_id).status)

The API token travels in the ``x-auth-token`` header and only to the API's own origin. It never
appears in ``repr``, log lines or exception messages.
"""

from __future__ import annotations

import logging
import os
import random as _random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import pydantic
import requests

from . import artefacts as _artefacts
from ._version import __version__
from .errors import (
    BadRequestError,
    BuildStartUncertainError,
    CodemagicAPIError,
    CodemagicError,
    MissingTokenError,
    NotFoundError,
    RequestTimeoutError,
    UnexpectedResponseError,
    api_error_from_response,
    scrub,
)
from .models import (
    Application,
    ApplicationEnvelope,
    ApplicationList,
    Artefact,
    Build,
    BuildEnvelope,
    BuildListPage,
    CancelResult,
    PublicUrl,
    PublicUrlRequest,
    StartBuildRequest,
    StartBuildResponse,
)
from .retries import (
    RETRYABLE_STATUSES,
    UNCERTAIN_START_STATUSES,
    RetryPolicy,
    is_retryable_transport_error,
    new_idempotency_label,
    request_never_sent,
)
from .timestamps import to_unix_seconds

__all__ = [
    "BASE_URL_ENV_VAR",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV_VARS",
    "CodemagicClient",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.codemagic.io"
"""Base URL of the legacy Codemagic REST API."""

BASE_URL_ENV_VAR = "CODEMAGIC_API_URL"
"""Environment variable that overrides :data:`DEFAULT_BASE_URL`."""

TOKEN_ENV_VARS = ("CODEMAGIC_API_TOKEN", "CM_API_TOKEN")
"""Environment variables read for the API token, in this order."""

BUILDS_PAGE_SIZE = 30
"""Number of builds ``GET /builds`` returns per page; the API has no parameter to change it."""

START_LOOKUP_BUILDS = 2 * BUILDS_PAGE_SIZE
"""Newest builds of an app searched for a start's label when a start's outcome is unknown."""

_ERROR_BODY_MAX_BYTES = 64 * 1024

_START_BAD_REQUEST_HINT = (
    "Check appId, workflowId and branch or tag. For a codemagic.yaml app, workflowId must be "
    "the workflow's key under `workflows:` in codemagic.yaml (such as `ios-release`), not its "
    "display name, and the branch or tag must contain that codemagic.yaml."
)
_START_NOT_FOUND_HINT = (
    "Check that the app exists and that the token's user may see it, and that workflowId is "
    "the workflow's key in codemagic.yaml (such as `ios-release`), not its display name."
)
_ARTEFACT_NOT_FOUND_HINT = (
    "Codemagic deletes artefacts after the plan's retention period (30 days on personal "
    "accounts); check that the build still lists this artefact."
)

_ModelT = TypeVar("_ModelT", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class _Call:
    """One logical API call: what to send, and how to explain its failures."""

    method: str
    url: str
    subject: str
    params: Mapping[str, str] | None = None
    json_body: Mapping[str, Any] | None = None
    send_token: bool = True
    stream: bool = False
    accept_redirects: bool = False
    hints: Mapping[type[CodemagicAPIError], str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    """Values sent in the request that must not appear in errors, such as variable values."""


class CodemagicClient:
    """Client for the Codemagic REST API, built on a :class:`requests.Session`.

    Reads, cancels and public-URL requests are retried after transient failures. Build starts
    are made idempotent with a unique label instead; see :meth:`start_build`. Use the client
    as a context manager, or call :meth:`close`, to release its connections.

    Args:
        token: Codemagic API token. When ``None`` or empty, the ``CODEMAGIC_API_TOKEN``
            environment variable is read, then ``CM_API_TOKEN``. Raises
            :class:`~pulumi_codemagic.errors.MissingTokenError` when none is set.
        base_url: API base URL. When ``None``, the ``CODEMAGIC_API_URL`` environment variable,
            else ``https://api.codemagic.io``. A trailing slash is removed.
        timeout_seconds: Read timeout of each request: the longest wait for the server between
            bytes, in seconds. Default 30.
        connect_timeout_seconds: Maximum wait for a connection to open, in seconds. Default 10.
        max_retries: Repeats of a failed request after the first attempt. Default 4.
        max_rate_limit_wait_seconds: Maximum wait honoured from a 429 reply's
            ``Retry-After`` or rate-limit reset header, in seconds. Default 60.
        session: Session to send requests with. When given, the caller keeps ownership and
            :meth:`close` leaves it open. Redirects are never followed automatically either
            way.
        sleep: Function that pauses for a number of seconds. Default :func:`time.sleep`.
        random: Function returning a float in [0, 1) for backoff jitter. Default
            :func:`random.random`.
        now: Function returning the UNIX time in seconds, for HTTP-date ``Retry-After``
            headers and expiry checks. Default :func:`time.time`.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 10.0,
        max_retries: int = 4,
        max_rate_limit_wait_seconds: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        now: Callable[[], float] = time.time,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be greater than 0, got {timeout_seconds}")
        if connect_timeout_seconds <= 0:
            raise ValueError(
                f"connect_timeout_seconds must be greater than 0, got {connect_timeout_seconds}"
            )

        self._token, self._token_source = _resolve_token(token)
        self._base_url = _resolve_base_url(base_url)
        self._api_origin = _artefacts.origin_of(self._base_url)
        self._timeout = (connect_timeout_seconds, timeout_seconds)
        self._retry_policy = RetryPolicy(
            max_retries=max_retries, max_rate_limit_wait_seconds=max_rate_limit_wait_seconds
        )
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._random = random
        self._now = now
        self._closed = False

    # -----------------------------------------------------------------------------------------
    # Identity and lifecycle

    @property
    def base_url(self) -> str:
        """API base URL, without a trailing slash."""
        return self._base_url

    @property
    def token_source(self) -> str:
        """Where the token came from: ``"argument"``, ``"CODEMAGIC_API_TOKEN"`` or
        ``"CM_API_TOKEN"``. The token itself is never exposed."""
        return self._token_source

    def __repr__(self) -> str:
        return f"CodemagicClient(base_url={self._base_url!r}, token_source={self._token_source!r})"

    def __getstate__(self) -> NoReturn:
        # Pickling would copy the token into wherever the bytes go, such as Pulumi state for a
        # dynamic provider that captured a client.
        raise TypeError(
            "CodemagicClient contains the API token and cannot be pickled; create the client "
            "inside the code that uses it instead of capturing it"
        )

    def close(self) -> None:
        """Close the client's own HTTP session. Later calls raise ``RuntimeError``."""
        if self._owns_session and not self._closed:
            self._session.close()
        self._closed = True

    def __enter__(self) -> CodemagicClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -----------------------------------------------------------------------------------------
    # Builds

    def start_build(
        self, request: StartBuildRequest, *, idempotency_label: str | None = None
    ) -> str:
        """Start a build with ``POST /builds`` and return its id.

        The request always carries a unique label, so that a start whose outcome is unknown can
        be found again instead of being repeated blindly:

        * a 429 reply, or a failure before the request left this machine (connect timeout,
          refused connection), is retried after a wait, because no build was created;
        * a read timeout, a dropped connection or a 500, 502, 503 or 504 reply may have created
          a build, so the newest builds of the app are searched for the label. A build found
          there is returned; otherwise the request is sent again, up to ``max_retries`` times;
        * any other 4xx reply is raised at once.

        Args:
            request: App, workflow, branch or tag, and optional environment and labels.
            idempotency_label: Label identifying this start. Default: a fresh
                ``pulumi-codemagic-start-<32 hex digits>``. It is added to ``request.labels``.

        Raises:
            TokenRejectedError: 401 or 403, with how to set the token.
            BadRequestError: 400 or 422, for example an unknown workflow key.
            BuildStartUncertainError: a build may have been created and the lookup failed;
                its message names the label to search for in Codemagic.
            RateLimitedError, ServerError, RequestTimeoutError: still failing after the retries,
                and no build with the label exists.
        """
        label = idempotency_label if idempotency_label is not None else new_idempotency_label()
        if not label.strip():
            raise ValueError("idempotency_label must not be empty")
        request = request.with_label(label)
        call = _Call(
            "POST",
            self._url("/builds"),
            subject=f"app {request.app_id}",
            json_body=request.to_json_body(),
            hints={BadRequestError: _START_BAD_REQUEST_HINT, NotFoundError: _START_NOT_FOUND_HINT},
            secrets=_variable_values(request),
        )
        max_attempts = self._retry_policy.max_attempts

        for attempt in range(1, max_attempts + 1):
            last_attempt = attempt == max_attempts

            # Send once, and sort the outcome into "no build created" (retry), "failed for good"
            # (raise) and "maybe created" (look for the label below).
            try:
                response = self._send_once(call, attempt=attempt)
            except requests.RequestException as exc:
                if request_never_sent(exc) and not last_attempt:
                    self._wait_before_retry(call, attempt, reason=type(exc).__name__)
                    continue
                error: CodemagicAPIError = self._transport_error(call, exc, attempts=attempt)
                if request_never_sent(exc) or not is_retryable_transport_error(exc):
                    raise error from exc
                doubt = f"the request failed with {type(exc).__name__} after it may have arrived"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return self._parse(call, response, StartBuildResponse).build_id
                    except UnexpectedResponseError as exc:
                        return self._start_reply_unreadable(request, label, exc)
                if status == 429 and not last_attempt:
                    self._wait_before_retry(call, attempt, response=response)
                    continue
                error = self._api_error(call, response)
                if status not in UNCERTAIN_START_STATUSES:
                    raise error
                doubt = f"Codemagic returned HTTP {status}"

            # The request may have created a build. Wait first, so that a slow server has time
            # to record it, then look for the label before sending anything again.
            self._sleep(self._retry_policy.backoff_seconds(attempt, random=self._random))
            found = self._find_build_by_label(request, label, doubt=doubt)
            if found is not None:
                logger.info(
                    "POST /builds: %s, but build %s with label %s exists; using it",
                    doubt,
                    found,
                    label,
                )
                return found
            if last_attempt:
                raise error
            logger.info(
                "POST /builds: %s and no build has the label %s; sending it again "
                "(attempt %d of %d)",
                doubt,
                label,
                attempt + 1,
                max_attempts,
            )

        raise AssertionError("unreachable: the last attempt returns or raises")

    def get_build(self, build_id: str) -> Build:
        """Read one build with ``GET /builds/:id``.

        Raises:
            NotFoundError: no build with that id is visible to the token's user.
        """
        _require_id("build_id", build_id)
        call = _Call("GET", self._url(f"/builds/{quote(build_id, safe='')}"), f"build {build_id}")
        return self._parse(call, self._request(call), BuildEnvelope).build

    def list_builds(
        self,
        *,
        app_id: str | None = None,
        workflow_id: str | None = None,
        branch: str | None = None,
        tag: str | None = None,
    ) -> Iterator[Build]:
        """Iterate over builds, newest first, reading 30 per request as the iteration goes.

        Each argument left ``None`` does not filter. Builds that do not match a given filter
        are skipped on this side too, and a build that moves to the next page while paging
        (because a newer one started) is yielded only once.

        Args:
            app_id: Only builds of this application.
            workflow_id: Only builds of this workflow: the codemagic.yaml key or the Workflow
                Editor id.
            branch: Only builds of this branch.
            tag: Only builds of this tag.
        """
        filters = {
            key: value
            for key, value in (
                ("appId", app_id),
                ("workflowId", workflow_id),
                ("branch", branch),
                ("tag", tag),
            )
            if value is not None
        }
        return self._iter_builds(filters)

    def cancel_build(self, build_id: str) -> CancelResult:
        """Cancel a build with ``POST /builds/:id/cancel``.

        Returns :attr:`CancelResult.CANCELED` for HTTP 200 and
        :attr:`CancelResult.ALREADY_FINISHED` for HTTP 208, whatever the 208 body is. A cancel
        is safe to repeat, so it is retried like a read; when the first reply was lost, the
        repeat reports ``ALREADY_FINISHED``.
        """
        _require_id("build_id", build_id)
        call = _Call(
            "POST",
            self._url(f"/builds/{quote(build_id, safe='')}/cancel"),
            f"build {build_id}",
        )
        response = self._request(call)
        with response:
            if response.status_code == 208:
                return CancelResult.ALREADY_FINISHED
            # NOTE: Codemagic documents only 200 for a successful cancel. Another 2xx is read
            # the same way, as an accepted cancel.
            return CancelResult.CANCELED

    # -----------------------------------------------------------------------------------------
    # Artefacts

    def create_public_url(self, artefact_url: str, *, expires_at: datetime | int) -> PublicUrl:
        """Create a URL that downloads an artefact without a token, until ``expires_at``.

        Sends ``POST <artefact_url>/public-url`` with ``expiresAt`` in UNIX seconds. Anyone
        holding the returned URL can download the file, so treat it as a secret.

        Args:
            artefact_url: The artefact's ``url`` from a build, on the API's origin.
            expires_at: Expiry as an aware datetime or as UNIX seconds. It must be in the
                future. Codemagic's reply may differ slightly; use the returned ``expires_at``.
        """
        expires_at_seconds = to_unix_seconds(expires_at)
        if expires_at_seconds <= self._now():
            raise ValueError(f"expires_at ({expires_at_seconds}) must be in the future")
        if _artefacts.origin_of(artefact_url) != self._api_origin:
            raise ValueError(
                f"the artefact URL {_artefacts.display_url(artefact_url)} is not on the API "
                f"origin {self._base_url}, so the API token is not sent to it"
            )

        call = _Call(
            "POST",
            artefact_url.rstrip("/") + "/public-url",
            subject=f"the artefact {urlsplit(artefact_url).path.rsplit('/', 1)[-1]!r}",
            json_body=PublicUrlRequest(expires_at=expires_at_seconds).model_dump(by_alias=True),
            hints={NotFoundError: _ARTEFACT_NOT_FOUND_HINT},
        )
        return self._parse(call, self._request(call), PublicUrl)

    def download_artefact(self, artefact: Artefact, destination: Path) -> Path:
        """Download an artefact to a file and return the file's path.

        The token is sent to the artefact URL when it is on the API's origin, and dropped on a
        redirect to another origin. Redirects from https to http are rejected.

        The file appears only after its status, size and md5 checksum were checked: it is
        written to a temporary file in the same directory and then renamed. On any failure no
        file is left behind. Transient failures, including a transfer cut off midway, are
        retried from the start.

        Args:
            artefact: The artefact, as found in :attr:`Build.artefacts`.
            destination: A file path, or an existing directory to put the artefact's file name
                in. An existing file is replaced.

        Raises:
            ArtefactIntegrityError: the received bytes do not match ``md5`` or ``size``.
            RedirectRejectedError: a redirect to http, or more than 5 redirects.
            NotFoundError: the artefact is gone, for example after the retention period.
        """
        subject = f"the artefact {artefact.name!r}"

        def fetch(url: str, *, send_token: bool) -> requests.Response:
            call = _Call(
                "GET",
                url,
                subject=subject,
                send_token=send_token,
                stream=True,
                accept_redirects=True,
                hints={NotFoundError: _ARTEFACT_NOT_FOUND_HINT},
            )
            return self._request(call)

        max_attempts = self._retry_policy.max_attempts
        for attempt in range(1, max_attempts + 1):
            try:
                return _artefacts.download_artefact(
                    fetch, artefact=artefact, destination=destination, api_origin=self._api_origin
                )
            except requests.RequestException as exc:
                # Raised while reading the body; failures before it are retried in _request.
                call = _Call("GET", artefact.url, subject=subject)
                if not is_retryable_transport_error(exc) or attempt == max_attempts:
                    raise self._transport_error(call, exc, attempts=attempt) from exc
                self._wait_before_retry(call, attempt, reason=type(exc).__name__)

        raise AssertionError("unreachable: the last attempt returns or raises")

    # -----------------------------------------------------------------------------------------
    # Applications

    def get_app(self, app_id: str) -> Application:
        """Read one application with ``GET /apps/:id``."""
        _require_id("app_id", app_id)
        call = _Call("GET", self._url(f"/apps/{quote(app_id, safe='')}"), f"app {app_id}")
        return self._parse(call, self._request(call), ApplicationEnvelope).application

    def list_apps(self) -> list[Application]:
        """List the applications the token's user can see, with ``GET /apps``."""
        call = _Call("GET", self._url("/apps"), "the application list")
        return self._parse(call, self._request(call), ApplicationList).applications

    # -----------------------------------------------------------------------------------------
    # Paging and the start lookup

    def _iter_builds(self, filters: Mapping[str, str]) -> Iterator[Build]:
        subject = f"app {filters['appId']}" if "appId" in filters else "the build list"
        seen: set[str] = set()
        skip = 0

        while True:
            params = dict(filters)
            if skip:
                params["skip"] = str(skip)
            call = _Call("GET", self._url("/builds"), subject, params=params)
            page = self._parse(call, self._request(call), BuildListPage)

            for build in page.builds:
                if build.id in seen or not _matches(build, filters):
                    continue
                seen.add(build.id)
                yield build

            next_skip = _next_skip(page, skip)
            if next_skip is None:
                return
            skip = next_skip

    def _find_build_by_label(
        self, request: StartBuildRequest, label: str, *, doubt: str
    ) -> str | None:
        # The lookup filters by app only, because Codemagic stores the workflow key of a
        # codemagic.yaml build in fileWorkflowId, and a workflowId filter might miss it.
        try:
            newest = islice(self._iter_builds({"appId": request.app_id}), START_LOOKUP_BUILDS)
            for build in newest:
                if label in build.labels:
                    return build.id
        except CodemagicError as lookup_error:
            raise BuildStartUncertainError(
                f"Starting a build of workflow {request.workflow_id!r} for app "
                f"{request.app_id} may or may not have succeeded: {doubt}, and looking for "
                f"the build afterwards failed too ({_summary(lookup_error)}). Before starting "
                f"it again, search Codemagic for a build with the label {label}.",
                label=label,
                app_id=request.app_id,
                workflow_id=request.workflow_id,
            ) from lookup_error
        return None

    def _start_reply_unreadable(
        self, request: StartBuildRequest, label: str, error: UnexpectedResponseError
    ) -> str:
        doubt = f"Codemagic returned HTTP {error.status} without a readable build id"
        found = self._find_build_by_label(request, label, doubt=doubt)
        if found is not None:
            return found
        raise BuildStartUncertainError(
            f"Starting a build of workflow {request.workflow_id!r} for app {request.app_id} "
            f"may or may not have succeeded: {doubt}, and no build with its label is listed "
            f"yet. Before starting it again, search Codemagic for a build with the label "
            f"{label}.",
            label=label,
            app_id=request.app_id,
            workflow_id=request.workflow_id,
        ) from error

    # -----------------------------------------------------------------------------------------
    # HTTP

    def _url(self, path: str) -> str:
        return self._base_url + path

    def _request(self, call: _Call) -> requests.Response:
        """Send a request that is safe to repeat, retrying transient failures.

        Returns a 2xx reply, or a 3xx reply when ``call.accept_redirects``; raises the
        library's errors for everything else.
        """
        max_attempts = self._retry_policy.max_attempts
        for attempt in range(1, max_attempts + 1):
            last_attempt = attempt == max_attempts
            try:
                response = self._send_once(call, attempt=attempt)
            except requests.RequestException as exc:
                if last_attempt or not is_retryable_transport_error(exc):
                    raise self._transport_error(call, exc, attempts=attempt) from exc
                self._wait_before_retry(call, attempt, reason=type(exc).__name__)
                continue

            status = response.status_code
            if status in RETRYABLE_STATUSES and not last_attempt:
                self._wait_before_retry(call, attempt, response=response)
                continue
            if 200 <= status < 300 or (call.accept_redirects and 300 <= status < 400):
                return response
            raise self._api_error(call, response)

        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_once(self, call: _Call, *, attempt: int) -> requests.Response:
        if self._closed:
            raise RuntimeError("this CodemagicClient is closed; create a new one")

        headers = {"User-Agent": f"pulumi-codemagic/{__version__}", "Accept": "application/json"}
        if call.send_token:
            headers["x-auth-token"] = self._token
        if call.stream:
            headers["Accept"] = "*/*"

        path = self._display_path(call.url)
        try:
            response = self._session.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json_body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                stream=call.stream,
            )
        except requests.RequestException as exc:
            logger.debug("%s %s -> %s (attempt %d)", call.method, path, type(exc).__name__, attempt)
            raise
        logger.debug("%s %s -> %d (attempt %d)", call.method, path, response.status_code, attempt)
        return response

    def _wait_before_retry(
        self,
        call: _Call,
        attempt: int,
        *,
        response: requests.Response | None = None,
        reason: str | None = None,
    ) -> None:
        if response is not None:
            reason = f"HTTP {response.status_code}"
            if response.status_code == 429:
                delay = self._retry_policy.rate_limit_wait_seconds(
                    response.headers, retry_number=attempt, random=self._random, now=self._now
                )
            else:
                delay = self._retry_policy.backoff_seconds(attempt, random=self._random)
            response.close()
        else:
            delay = self._retry_policy.backoff_seconds(attempt, random=self._random)

        logger.info(
            "%s %s failed with %s; retrying in %.2f s (attempt %d of %d)",
            call.method,
            self._display_path(call.url),
            reason,
            delay,
            attempt + 1,
            self._retry_policy.max_attempts,
        )
        self._sleep(delay)

    def _parse(self, call: _Call, response: requests.Response, model: type[_ModelT]) -> _ModelT:
        with response:
            try:
                data = response.json()
            except ValueError:
                raise UnexpectedResponseError(
                    f"{call.method} {self._display_path(call.url)} returned HTTP "
                    f"{response.status_code} with a body that is not JSON. The Codemagic API "
                    "may be unavailable or changed; try again later.",
                    method=call.method,
                    path=urlsplit(call.url).path,
                    status=response.status_code,
                ) from None
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            fields = sorted(
                {".".join(str(part) for part in error["loc"]) for error in exc.errors()}
            )
            raise UnexpectedResponseError(
                f"{call.method} {self._display_path(call.url)} returned a body without the "
                f"expected fields ({', '.join(fields) or 'top level'}). The Codemagic API may "
                "have changed.",
                method=call.method,
                path=urlsplit(call.url).path,
                status=response.status_code,
            ) from None

    def _api_error(self, call: _Call, response: requests.Response) -> CodemagicAPIError:
        retry_after = None
        if response.status_code == 429:
            retry_after = self._retry_policy.rate_limit_wait_seconds(
                response.headers, retry_number=1, random=lambda: 1.0, now=self._now
            )
        return api_error_from_response(
            method=call.method,
            path=self._display_path(call.url),
            status=response.status_code,
            body=_read_error_body(response),
            secrets=(self._token, *call.secrets),
            subject=call.subject,
            hints=call.hints,
            retry_after_seconds=retry_after,
        )

    def _transport_error(
        self, call: _Call, error: requests.RequestException, *, attempts: int
    ) -> RequestTimeoutError:
        path = self._display_path(call.url)
        if isinstance(error, requests.exceptions.SSLError):
            problem = "the TLS connection failed (SSLError); check the certificate settings"
        elif isinstance(error, requests.ConnectTimeout):
            problem = f"no connection within {self._timeout[0]:g} s (ConnectTimeout)"
        elif isinstance(error, requests.Timeout):
            problem = f"no reply within {self._timeout[1]:g} s (ReadTimeout)"
        else:
            problem = f"the connection failed ({type(error).__name__})"
        tries = "attempt" if attempts == 1 else "attempts"
        message = (
            f"{call.method} {path} failed after {attempts} {tries}: {problem}. Check the network "
            f"connection to {self._base_url}; the Codemagic API may be unavailable."
        )
        return RequestTimeoutError(
            scrub(message, (self._token, *call.secrets)),
            method=call.method,
            path=path,
            status=None,
        )

    def _display_path(self, url: str) -> str:
        """Return the path of ``url``, prefixed by its origin when that is not the API's."""
        if _artefacts.origin_of(url) == self._api_origin:
            return urlsplit(url).path or "/"
        return _artefacts.display_url(url)


def _resolve_token(token: str | None) -> tuple[str, str]:
    if token is not None and token.strip():
        return token.strip(), "argument"
    for name in TOKEN_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    raise MissingTokenError(
        "No Codemagic API token was given: set it with "
        "`pulumi config set --secret codemagic:token <token>`, or set the "
        f"{' or '.join(TOKEN_ENV_VARS)} environment variable. Copy the token from Codemagic: "
        "Account settings > API token."
    )


def _resolve_base_url(base_url: str | None) -> str:
    chosen = base_url if base_url is not None else os.environ.get(BASE_URL_ENV_VAR, "")
    chosen = chosen.strip() or DEFAULT_BASE_URL
    chosen = chosen.rstrip("/")
    parts = urlsplit(chosen)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        source = "base_url" if base_url is not None else BASE_URL_ENV_VAR
        raise ValueError(
            f"{source} must be an http or https URL such as {DEFAULT_BASE_URL}, got {chosen!r}"
        )
    return chosen


def _require_id(name: str, value: str) -> None:
    if not value or not value.strip():
        raise ValueError(f"{name} must not be empty")


def _matches(build: Build, filters: Mapping[str, str]) -> bool:
    # NOTE: it is not confirmed that the legacy GET /builds applies every documented filter,
    # so they are checked here as well.
    actual = {
        "appId": build.app_id,
        "workflowId": build.workflow_id,
        "branch": build.branch,
        "tag": build.tag,
    }
    return all(actual[key] == value for key, value in filters.items())


def _next_skip(page: BuildListPage, skip: int) -> int | None:
    """Return the ``skip`` of the next page, or ``None`` when the list is complete."""
    if not page.builds:
        return None
    if "next_page_url" not in page.model_fields_set:
        # No paging information: a full page suggests more.
        return skip + len(page.builds) if len(page.builds) >= BUILDS_PAGE_SIZE else None
    if page.next_page_url is None:
        return None

    values = parse_qs(urlsplit(page.next_page_url).query).get("skip", [])
    try:
        next_skip = int(values[0])
    except (IndexError, ValueError):
        logger.warning(
            "GET /builds returned a nextPageUrl without a usable skip value; stopping the listing"
        )
        return None
    # A skip that does not move forward would loop forever.
    return next_skip if next_skip > skip else None


def _read_error_body(response: requests.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    with response:
        try:
            for chunk in response.iter_content(chunk_size=8192):
                chunks.append(chunk)
                size += len(chunk)
                if size >= _ERROR_BODY_MAX_BYTES:
                    break
        except requests.RequestException:
            pass  # A cut-off error body still leaves the status code to report.
    encoding = response.encoding or "utf-8"
    try:
        return b"".join(chunks).decode(encoding, errors="replace")
    except LookupError:
        return b"".join(chunks).decode("utf-8", errors="replace")


def _variable_values(request: StartBuildRequest) -> tuple[str, ...]:
    if request.environment is None:
        return ()
    return tuple(request.environment.variables.values())


def _summary(error: CodemagicError) -> str:
    if isinstance(error, CodemagicAPIError) and error.status is not None:
        return f"{type(error).__name__}, HTTP {error.status}"
    return type(error).__name__
