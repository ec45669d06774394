"""Exceptions raised by pulumi-codemagic.

The tree, so that callers can catch as broadly as they need::

    CodemagicError
    ├── MissingTokenError (also ValueError)     no token from the argument or the environment
    ├── CodemagicAPIError                       an HTTP request failed
    │   ├── TokenRejectedError                  401 or 403
    │   ├── NotFoundError                       404
    │   ├── BadRequestError (also ValueError)   400 or 422
    │   ├── RateLimitedError                    429, still after the retries
    │   ├── ServerError                         5xx, still after the retries
    │   ├── RequestTimeoutError                 connection failed or timed out after the retries
    │   ├── RedirectRejectedError               a download redirect was not followed
    │   └── UnexpectedResponseError             a reply that does not have the documented shape
    ├── BuildStartUncertainError                unknown whether POST /builds created a build
    ├── BuildFailedError                        a build ended outside the success statuses
    ├── BuildWaitTimeoutError                   a build was still running at the deadline
    └── ArtefactIntegrityError                  a download did not match its md5 or size

No message contains the API token, and none repeats a request body, because request bodies can
carry environment variable values.
"""

from __future__ import annotations

import html
import http
import json
import re
from collections.abc import Iterable, Mapping

from .models import Build, build_page_url

__all__ = [
    "TOKEN_HELP",
    "ArtefactIntegrityError",
    "BadRequestError",
    "BuildFailedError",
    "BuildStartUncertainError",
    "BuildWaitTimeoutError",
    "CodemagicAPIError",
    "CodemagicError",
    "MissingTokenError",
    "NotFoundError",
    "RateLimitedError",
    "RedirectRejectedError",
    "RequestTimeoutError",
    "ServerError",
    "TokenRejectedError",
    "UnexpectedResponseError",
    "api_error_from_response",
    "body_excerpt",
]

TOKEN_HELP = (
    "set it with `pulumi config set --secret codemagic:token <token>` or the "
    "CODEMAGIC_API_TOKEN environment variable"
)
"""How to provide the API token, quoted in every token-related message."""

MAX_EXCERPT_CHARS = 200
"""Maximum length of :attr:`CodemagicAPIError.body_excerpt`, in characters."""

_REDACTED = "[REDACTED]"

# Shorter strings are not real tokens or secrets, and replacing them would garble messages.
_MIN_SCRUBBED_CHARS = 8


class CodemagicError(Exception):
    """Base class of every exception pulumi-codemagic raises."""


class MissingTokenError(CodemagicError, ValueError):
    """No API token was passed and none is set in the environment."""


class CodemagicAPIError(CodemagicError):
    """An HTTP request to Codemagic failed.

    Attributes:
        method: HTTP method of the failed request, such as ``"POST"``.
        path: URL path of the failed request, without the query string (query strings of
            download redirects can carry signatures).
        status: HTTP status code, or ``None`` when no response arrived.
        body_excerpt: Start of the error message in the response body, at most
            :data:`MAX_EXCERPT_CHARS` characters, with the token and the request's environment
            variable values removed; ``""`` when there was none.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.body_excerpt = body_excerpt


class TokenRejectedError(CodemagicAPIError):
    """Codemagic rejected the token (401), or its user may not access the resource (403)."""


class NotFoundError(CodemagicAPIError):
    """The build, app or artefact does not exist, or the token's user cannot see it (404)."""


class BadRequestError(CodemagicAPIError, ValueError):
    """Codemagic rejected the request as invalid (400 or 422)."""


class RateLimitedError(CodemagicAPIError):
    """Codemagic still returned 429 Too Many Requests after the retries.

    Attributes:
        retry_after_seconds: Wait the server asked for, in seconds, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None,
        body_excerpt: str = "",
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(
            message, method=method, path=path, status=status, body_excerpt=body_excerpt
        )
        self.retry_after_seconds = retry_after_seconds


class ServerError(CodemagicAPIError):
    """Codemagic returned a 5xx status, still after the retries where retrying is safe."""


class RequestTimeoutError(CodemagicAPIError):
    """The connection failed or timed out, still after the retries; ``status`` is ``None``."""


class RedirectRejectedError(CodemagicAPIError):
    """A redirect was not followed: it went from https to http, or there were too many."""


class UnexpectedResponseError(CodemagicAPIError):
    """A reply did not have the documented shape: not JSON, a missing field or a 3xx."""


class BuildStartUncertainError(CodemagicError):
    """``POST /builds`` may or may not have started a build, and the lookup could not tell.

    Attributes:
        label: Unique label the start request carried. Search for it in Codemagic before
            starting the build again.
        app_id: Codemagic application id of the start request.
        workflow_id: Workflow id of the start request.
    """

    def __init__(self, message: str, *, label: str, app_id: str, workflow_id: str) -> None:
        super().__init__(message)
        self.label = label
        self.app_id = app_id
        self.workflow_id = workflow_id


class BuildFailedError(CodemagicError):
    """A build reached a terminal status that is not in the caller's success statuses.

    Attributes:
        build: The build as last read, with its terminal ``status`` and Codemagic's
            ``message``.
    """

    def __init__(self, build: Build) -> None:
        super().__init__(_describe_failed_build(build))
        self.build = build

    @property
    def status(self) -> str:
        """Terminal status of the build, such as ``"failed"`` or ``"canceled"``."""
        return self.build.status


class BuildWaitTimeoutError(CodemagicError):
    """A build had not reached a terminal status when the wait's deadline passed.

    Attributes:
        build_id: Id of the build that was awaited.
        last_build: The build as last read, or ``None`` if no read succeeded.
        timeout_seconds: Length of the wait that ran out, in seconds.
    """

    def __init__(self, build_id: str, *, timeout_seconds: float, last_build: Build | None) -> None:
        message = f"Build {build_id} did not reach a final status within {timeout_seconds:g} s"
        if last_build is None:
            message += ", and its status could not be read"
        else:
            message += f"; its last status was {last_build.status!r}"
        message += ". It may still be running in Codemagic"
        if last_build is not None:
            message += f" ({build_page_url(last_build.app_id, build_id)})"
        message += ". Raise the wait timeout or cancel the build."
        super().__init__(message)
        self.build_id = build_id
        self.last_build = last_build
        self.timeout_seconds = timeout_seconds


class ArtefactIntegrityError(CodemagicError):
    """A downloaded artefact did not match the md5 checksum or size Codemagic reported.

    Attributes:
        artefact_name: File name of the artefact.
        expected_md5, actual_md5: Checksums as hex strings (``expected_md5`` may be ``None``).
        expected_size, actual_size: Sizes in bytes (``expected_size`` may be ``None``).
    """

    def __init__(
        self,
        artefact_name: str,
        *,
        expected_md5: str | None,
        actual_md5: str,
        expected_size: int | None,
        actual_size: int,
    ) -> None:
        problems = []
        if expected_size is not None and expected_size != actual_size:
            problems.append(f"expected {expected_size} bytes, received {actual_size}")
        if expected_md5 is not None and expected_md5.lower() != actual_md5:
            problems.append(f"expected md5 {expected_md5.lower()}, computed {actual_md5}")
        super().__init__(
            f"Download of artefact {artefact_name!r} failed the integrity check: "
            + "; ".join(problems)
            + ". No file was written; retry the download."
        )
        self.artefact_name = artefact_name
        self.expected_md5 = expected_md5
        self.actual_md5 = actual_md5
        self.expected_size = expected_size
        self.actual_size = actual_size


def body_excerpt(body: str, *, secrets: Iterable[str | None] = ()) -> str:
    """Extract a short message without secrets from an error response body.

    The message is the first non-empty string among the JSON keys ``detail``, ``message`` and
    ``error``. Without one, it is the ``<title>`` of an HTML page, else the text itself.
    Whitespace runs become one space, each of ``secrets`` becomes ``[REDACTED]`` (see
    :func:`scrub`), and the result is cut to :data:`MAX_EXCERPT_CHARS` characters.
    """
    text = body.strip()
    message = _json_message(text)
    if message is None:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        message = html.unescape(title.group(1)) if title else text

    message = " ".join(message.split())
    message = scrub(message, secrets)
    if len(message) > MAX_EXCERPT_CHARS:
        message = message[: MAX_EXCERPT_CHARS - 1].rstrip() + "…"
    return message


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each of ``secrets`` in ``text`` with ``[REDACTED]``.

    Values shorter than 8 characters are left alone: they are not real tokens, and replacing
    a value such as ``1`` or ``true`` would garble the text.
    """
    usable = {secret for secret in secrets if secret and len(secret) >= _MIN_SCRUBBED_CHARS}
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted(usable, key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text


def api_error_from_response(
    *,
    method: str,
    path: str,
    status: int,
    body: str,
    secrets: Iterable[str | None],
    subject: str,
    hints: Mapping[type[CodemagicAPIError], str] | None = None,
    retry_after_seconds: float | None = None,
) -> CodemagicAPIError:
    """Build the exception for an HTTP error status, with what to do next.

    Args:
        method: HTTP method of the request.
        path: URL path of the request, without the query string.
        status: HTTP status code of the reply (400 or more, or an unexpected 3xx).
        body: Text of the reply body; only a short excerpt of it is kept.
        secrets: Values to remove from the message: the API token, and the environment
            variable values of the request, which a server might echo.
        subject: What the request was about, used in the advice, such as
            ``"app 5c9c064185dd2310123b8e96"``.
        hints: Advice that replaces the default one for an exception class, for a request
            whose failures need explaining in its own terms.
        retry_after_seconds: Wait the server asked for on a 429, in seconds.
    """
    error_class = _error_class_for_status(status)
    secrets = tuple(secrets)
    excerpt = body_excerpt(body, secrets=secrets)

    message = f"{method} {path} failed with HTTP {status}{_reason_phrase(status)}"
    message += f": {excerpt}" if excerpt else ""
    message += " " if message.endswith((".", "!", "?")) else ". "
    message += _hint(error_class, subject, hints, retry_after_seconds)
    message = scrub(message, secrets)

    if error_class is RateLimitedError:
        return RateLimitedError(
            message,
            method=method,
            path=path,
            status=status,
            body_excerpt=excerpt,
            retry_after_seconds=retry_after_seconds,
        )
    return error_class(message, method=method, path=path, status=status, body_excerpt=excerpt)


def _error_class_for_status(status: int) -> type[CodemagicAPIError]:
    if status in (401, 403):
        return TokenRejectedError
    if status == 404:
        return NotFoundError
    if status in (400, 422):
        return BadRequestError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    if 300 <= status < 400:
        return UnexpectedResponseError
    return CodemagicAPIError


def _hint(
    error_class: type[CodemagicAPIError],
    subject: str,
    hints: Mapping[type[CodemagicAPIError], str] | None,
    retry_after_seconds: float | None,
) -> str:
    if hints and error_class in hints:
        return hints[error_class]
    if error_class is TokenRejectedError:
        return f"Check the API token: {TOKEN_HELP}, and check that its user may access {subject}."
    if error_class is NotFoundError:
        return f"Check that {subject} exists and that the token's user may see it."
    if error_class is BadRequestError:
        return f"Codemagic rejected the request for {subject} as invalid; check its values."
    if error_class is RateLimitedError:
        wait = (
            f"wait {retry_after_seconds:g} s"
            if retry_after_seconds is not None
            else "wait a few minutes"
        )
        return (
            "Codemagic allows 5,000 API requests per hour per user; "
            f"{wait} and try again, or poll less often."
        )
    if error_class is ServerError:
        return "The Codemagic API is failing or unavailable; try again later."
    if error_class is UnexpectedResponseError:
        return "The Codemagic API returned a redirect, which this client does not follow."
    return f"Codemagic did not accept the request for {subject}."


def _reason_phrase(status: int) -> str:
    try:
        return f" {http.HTTPStatus(status).phrase}"
    except ValueError:
        return ""


def _json_message(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("detail", "message", "error"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


_FAILURE_ADVICE = {
    "failed": "Open the build page for the step logs.",
    "canceled": "It was canceled in Codemagic or through the API.",
    "timeout": "It ran longer than the workflow's max_build_duration.",
    "skipped": "A `when` condition in codemagic.yaml skipped it.",
    "warning": "Add 'warning' to the success statuses to accept such builds.",
    "finished": "Add 'finished' to the success statuses to accept such builds.",
}


def _describe_failed_build(build: Build) -> str:
    message = f"Build {build.id} of app {build.app_id} ended with status {build.status!r}"
    if build.message:
        message += f": {build.message.rstrip('.')}"
    message += f". See {build_page_url(build.app_id, build.id)}"
    advice = _FAILURE_ADVICE.get(build.status)
    if advice:
        message += f". {advice}"
    else:
        message += "."
    return message
