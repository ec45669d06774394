from __future__ import annotations

import pytest
from client_fakes import APP_ID, BUILD_ID, FAKE_TOKEN, build_json

from pulumi_codemagic.errors import (
    MAX_EXCERPT_CHARS,
    ArtefactIntegrityError,
    BadRequestError,
    BuildFailedError,
    BuildWaitTimeoutError,
    CodemagicAPIError,
    CodemagicError,
    MissingTokenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TokenRejectedError,
    UnexpectedResponseError,
    api_error_from_response,
    body_excerpt,
)
from pulumi_codemagic.models import Build

PAGE = f"https://codemagic.io/app/{APP_ID}/build/{BUILD_ID}"


def _error(status: int, body: str = "", **options: object) -> CodemagicAPIError:
    arguments: dict[str, object] = {
        "method": "GET",
        "path": f"/builds/{BUILD_ID}",
        "status": status,
        "body": body,
        "secrets": (FAKE_TOKEN,),
        "subject": f"build {BUILD_ID}",
    }
    arguments.update(options)
    return api_error_from_response(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, TokenRejectedError),
        (403, TokenRejectedError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (302, UnexpectedResponseError),
        (409, CodemagicAPIError),
    ],
)
def test_api_error_class_by_status(status: int, error_class: type[CodemagicAPIError]) -> None:
    assert type(_error(status)) is error_class


def test_api_errors_share_base() -> None:
    assert isinstance(_error(401), CodemagicError)


def test_bad_request_is_value_error() -> None:
    assert isinstance(_error(400), ValueError)


def test_missing_token_is_value_error() -> None:
    assert issubclass(MissingTokenError, ValueError)


def test_api_error_attributes() -> None:
    error = _error(404, '{"error": "NOT_FOUND", "message": "The requested URL was not found."}')

    assert error.method == "GET"
    assert error.path == f"/builds/{BUILD_ID}"
    assert error.status == 404
    assert error.body_excerpt == "The requested URL was not found."


def test_token_rejected_message() -> None:
    error = _error(
        401, '{"error": "Unauthorized"}', method="POST", path="/builds", subject=f"app {APP_ID}"
    )

    assert str(error) == (
        "POST /builds failed with HTTP 401 Unauthorized: Unauthorized. Check the API token: set "
        "it with `pulumi config set --secret codemagic:token <token>` or the CODEMAGIC_API_TOKEN "
        f"environment variable, and check that its user may access app {APP_ID}."
    )


def test_not_found_message() -> None:
    assert str(_error(404)) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 404 Not Found. Check that build {BUILD_ID} "
        "exists and that the token's user may see it."
    )


def test_bad_request_message() -> None:
    assert str(_error(400, "nope")) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 400 Bad Request: nope. Codemagic rejected the "
        f"request for build {BUILD_ID} as invalid; check its values."
    )


def test_rate_limited_message_with_wait() -> None:
    error = _error(429, retry_after_seconds=7.0)

    assert str(error) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 429 Too Many Requests. Codemagic allows 5,000 "
        "API requests per hour per user; wait 7 s and try again, or poll less often."
    )


def test_rate_limited_keeps_retry_after() -> None:
    error = _error(429, retry_after_seconds=7.0)

    assert isinstance(error, RateLimitedError)
    assert error.retry_after_seconds == 7.0


def test_server_error_message() -> None:
    assert str(_error(502, "<html><title>502 Bad Gateway</title><body>x</body></html>")) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 502 Bad Gateway: 502 Bad Gateway. The "
        "Codemagic API is failing or unavailable; try again later."
    )


def test_unknown_status_message() -> None:
    assert str(_error(499)) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 499. Codemagic did not accept the request for "
        f"build {BUILD_ID}."
    )


def test_hint_override_by_class() -> None:
    error = _error(400, hints={BadRequestError: "Use the workflow key."})

    assert str(error).endswith("HTTP 400 Bad Request. Use the workflow key.")


def test_error_message_scrubs_token() -> None:
    error = _error(401, f'{{"error": "token {FAKE_TOKEN} is revoked"}}')

    assert FAKE_TOKEN not in str(error)
    assert FAKE_TOKEN not in error.body_excerpt
    assert "token [REDACTED] is revoked" in str(error)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"detail": "d", "message": "m", "error": "e"}', "d"),
        ('{"message": "m", "error": "e"}', "m"),
        ('{"error": "e"}', "e"),
        ('{"error": "", "message": null}', '{"error": "", "message": null}'),
        ('{"status_code": 400, "detail": "Invalid page_size", "extra": null}', "Invalid page_size"),
        ('["a", "b"]', '["a", "b"]'),
        ("plain text\n  over   lines", "plain text over lines"),
        ("<html><head><title>Bad &amp; Gateway</title></head></html>", "Bad & Gateway"),
        ("", ""),
    ],
    ids=[
        "detail-first",
        "message-second",
        "error-third",
        "empty-values-fall-back-to-text",
        "v3-shape",
        "json-list",
        "text-whitespace",
        "html-title",
        "empty",
    ],
)
def test_body_excerpt_message(body: str, expected: str) -> None:
    assert body_excerpt(body) == expected


def test_body_excerpt_truncated() -> None:
    excerpt = body_excerpt("x" * 1000)

    assert len(excerpt) == MAX_EXCERPT_CHARS
    assert excerpt.endswith("…")


def test_body_excerpt_token_removed_before_cut() -> None:
    # A token straddling the cut must not leave its first characters behind.
    body = "y" * (MAX_EXCERPT_CHARS - 5) + FAKE_TOKEN

    assert "cm-fa" not in body_excerpt(body, secrets=[FAKE_TOKEN])


def test_body_excerpt_longer_secret_first() -> None:
    excerpt = body_excerpt("value=abcdefgh-ijkl", secrets=["abcdefgh", "abcdefgh-ijkl"])

    assert excerpt == "value=[REDACTED]"


def test_body_excerpt_short_token_not_scrubbed() -> None:
    assert body_excerpt("abc", secrets=["a"]) == "abc"


# Build outcome errors


def test_build_failed_message_failed() -> None:
    build = Build.model_validate(
        build_json(status="failed", message="Step 5 script `Build Android` exited with status 1.")
    )

    assert str(BuildFailedError(build)) == (
        f"Build {BUILD_ID} of app {APP_ID} ended with status 'failed': Step 5 script `Build "
        f"Android` exited with status 1. See {PAGE}. Open the build page for the step logs."
    )


def test_build_failed_message_canceled() -> None:
    build = Build.model_validate(build_json(status="canceled"))

    assert str(BuildFailedError(build)) == (
        f"Build {BUILD_ID} of app {APP_ID} ended with status 'canceled'. See {PAGE}. It was "
        "canceled in Codemagic or through the API."
    )


def test_build_failed_status_property() -> None:
    build = Build.model_validate(build_json(status="timeout"))

    assert BuildFailedError(build).status == "timeout"


def test_build_failed_unlisted_status_message() -> None:
    build = Build.model_validate(build_json(status="exploded"))

    assert str(BuildFailedError(build)).endswith(f"See {PAGE}.")


def test_wait_timeout_message_with_build() -> None:
    build = Build.model_validate(build_json(status="building"))
    error = BuildWaitTimeoutError(BUILD_ID, timeout_seconds=600, last_build=build)

    assert str(error) == (
        f"Build {BUILD_ID} did not reach a final status within 600 s; its last status was "
        f"'building'. It may still be running in Codemagic ({PAGE}). Raise the wait timeout or "
        "cancel the build."
    )


def test_wait_timeout_message_without_build() -> None:
    error = BuildWaitTimeoutError(BUILD_ID, timeout_seconds=90.5, last_build=None)

    assert str(error) == (
        f"Build {BUILD_ID} did not reach a final status within 90.5 s, and its status could not "
        "be read. It may still be running in Codemagic. Raise the wait timeout or cancel the "
        "build."
    )


def test_integrity_error_message() -> None:
    error = ArtefactIntegrityError(
        "app.apk", expected_md5="ABC", actual_md5="def", expected_size=10, actual_size=7
    )

    assert str(error) == (
        "Download of artefact 'app.apk' failed the integrity check: expected 10 bytes, received "
        "7; expected md5 abc, computed def. No file was written; retry the download."
    )
