from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests
import responses
from client_fakes import (
    API,
    APP_ID,
    BUILD_ID,
    FAKE_TOKEN,
    RecordingSleep,
    build_envelope,
    build_json,
    make_client,
)
from responses import matchers
from responses.registries import OrderedRegistry

from pulumi_codemagic.errors import (
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TokenRejectedError,
    UnexpectedResponseError,
)
from pulumi_codemagic.models import CancelResult


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def _page(builds: list[dict[str, object]], next_page_url: str | None) -> dict[str, object]:
    return {"applications": [], "builds": builds, "nextPageUrl": next_page_url}


def _builds(first: int, count: int, **fields: object) -> list[dict[str, object]]:
    return [
        build_json(f"b{index:03d}", status="finished", **fields)
        for index in range(first, first + count)
    ]


# get_build


def test_get_build_parses_envelope(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json(status="queued")))

    build = make_client().get_build(BUILD_ID)

    assert build.id == BUILD_ID
    assert build.status == "queued"
    assert build.workflow_id == "ios-release"


def test_get_build_quotes_id(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/a%2Fb", json=build_envelope(build_json("a/b")))

    assert make_client().get_build("a/b").id == "a/b"


def test_get_build_empty_id_rejected() -> None:
    with pytest.raises(ValueError, match="build_id must not be empty"):
        make_client().get_build("")


def test_get_build_not_found(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/builds/{BUILD_ID}",
        status=404,
        json={"error": "NOT_FOUND", "message": "The requested URL was not found on the server."},
    )

    with pytest.raises(NotFoundError) as caught:
        make_client().get_build(BUILD_ID)

    assert str(caught.value) == (
        f"GET /builds/{BUILD_ID} failed with HTTP 404 Not Found: The requested URL was not found "
        f"on the server. Check that build {BUILD_ID} exists and that the token's user may see it."
    )


def test_get_build_not_found_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=404)

    with pytest.raises(NotFoundError):
        make_client().get_build(BUILD_ID)

    assert len(rsps.calls) == 1


def test_get_build_not_json(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", body="<html>maintenance</html>")

    with pytest.raises(UnexpectedResponseError, match="with a body that is not JSON"):
        make_client().get_build(BUILD_ID)


def test_get_build_missing_fields(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", json={"build": {"_id": BUILD_ID}})

    with pytest.raises(
        UnexpectedResponseError, match=r"expected fields \(build\.appId, build\.status\)"
    ):
        make_client().get_build(BUILD_ID)


# Retries of reads


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_build_retries_gateway_errors(ordered: responses.RequestsMock, status: int) -> None:
    ordered.get(f"{API}/builds/{BUILD_ID}", status=status)
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))
    sleep = RecordingSleep()

    make_client(sleep).get_build(BUILD_ID)

    assert len(ordered.calls) == 2
    assert sleep.calls == [0.25]


def test_get_build_500_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=500, json={"error": "boom"})

    with pytest.raises(ServerError):
        make_client().get_build(BUILD_ID)

    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectTimeout(),
        requests.exceptions.ReadTimeout(),
        requests.ConnectionError("connection reset"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
def test_get_build_retries_transport_errors(
    ordered: responses.RequestsMock, error: Exception
) -> None:
    ordered.get(f"{API}/builds/{BUILD_ID}", body=error)
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))

    assert make_client().get_build(BUILD_ID).id == BUILD_ID


def test_read_backoff_grows(ordered: responses.RequestsMock) -> None:
    for _ in range(4):
        ordered.get(f"{API}/builds/{BUILD_ID}", status=503)
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))
    sleep = RecordingSleep()

    make_client(sleep, random_fraction=1.0).get_build(BUILD_ID)

    assert sleep.calls == [0.5, 1.0, 2.0, 4.0]


def test_read_retries_exhausted(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=503, body="Service Unavailable")

    with pytest.raises(ServerError, match="HTTP 503 Service Unavailable"):
        make_client(max_retries=2).get_build(BUILD_ID)

    assert len(rsps.calls) == 3


def test_read_timeouts_exhausted(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", body=requests.exceptions.ReadTimeout())

    with pytest.raises(RequestTimeoutError) as caught:
        make_client(max_retries=1, timeout_seconds=12).get_build(BUILD_ID)

    assert str(caught.value) == (
        f"GET /builds/{BUILD_ID} failed after 2 attempts: no reply within 12 s (ReadTimeout). "
        "Check the network connection to https://api.codemagic.io; the Codemagic API may be "
        "unavailable."
    )
    assert caught.value.status is None


def test_ssl_error_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", body=requests.exceptions.SSLError("bad certificate"))

    with pytest.raises(RequestTimeoutError, match="the TLS connection failed"):
        make_client().get_build(BUILD_ID)

    assert len(rsps.calls) == 1


def test_read_429_waits_ratelimit_reset(ordered: responses.RequestsMock) -> None:
    ordered.get(f"{API}/builds/{BUILD_ID}", status=429, headers={"ratelimit-reset": "7"})
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))
    sleep = RecordingSleep()

    make_client(sleep).get_build(BUILD_ID)

    assert sleep.calls == [7.0]
    assert len(ordered.calls) == 2


def test_read_429_wait_capped(ordered: responses.RequestsMock) -> None:
    ordered.get(f"{API}/builds/{BUILD_ID}", status=429, headers={"Retry-After": "3600"})
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))
    sleep = RecordingSleep()

    make_client(sleep).get_build(BUILD_ID)

    assert sleep.calls == [60.0]


def test_read_429_exhausted(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=429, headers={"ratelimit-reset": "20"})

    with pytest.raises(RateLimitedError, match="wait 20 s and try again") as caught:
        make_client(max_retries=1).get_build(BUILD_ID)

    assert caught.value.retry_after_seconds == 20.0


def test_read_retry_logged(
    ordered: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_codemagic")
    ordered.get(f"{API}/builds/{BUILD_ID}", status=503)
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json()))

    make_client().get_build(BUILD_ID)

    assert caplog.messages == [
        f"GET /builds/{BUILD_ID} -> 503 (attempt 1)",
        f"GET /builds/{BUILD_ID} failed with HTTP 503; retrying in 0.25 s (attempt 2 of 5)",
        f"GET /builds/{BUILD_ID} -> 200 (attempt 2)",
    ]


# Token errors


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "Unauthorized"}), (403, {"error": "Forbidden"})],
    ids=["401", "403"],
)
def test_get_build_token_rejected(
    rsps: responses.RequestsMock, status: int, body: dict[str, str]
) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=status, json=body)

    with pytest.raises(TokenRejectedError, match="pulumi config set --secret codemagic:token"):
        make_client().get_build(BUILD_ID)

    assert len(rsps.calls) == 1


# list_builds


def test_list_builds_follows_pages(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/builds",
        json=_page(_builds(0, 30), f"/builds?appId={APP_ID}&skip=30"),
        match=[matchers.query_param_matcher({"appId": APP_ID})],
    )
    rsps.get(
        f"{API}/builds",
        json=_page(_builds(30, 5), None),
        match=[matchers.query_param_matcher({"appId": APP_ID, "skip": "30"})],
    )

    builds = list(make_client().list_builds(app_id=APP_ID))

    assert [build.id for build in builds] == [f"b{index:03d}" for index in range(35)]


def test_list_builds_lazy(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json=_page(_builds(0, 30), "/builds?skip=30"))
    rsps.get(f"{API}/builds", json=_page(_builds(30, 1), None))
    iterator = make_client().list_builds()

    first = next(iterator)
    calls_after_first = len(rsps.calls)
    remaining = list(iterator)

    assert first.id == "b000"
    assert calls_after_first == 1
    assert len(remaining) == 30


def test_list_builds_no_filter(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/builds",
        json=_page(_builds(0, 2), None),
        match=[matchers.query_param_matcher({})],
    )

    assert len(list(make_client().list_builds())) == 2


def test_list_builds_branch_url_encoded(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json=_page(_builds(0, 1, branch="feature/x y"), None))

    list(make_client().list_builds(app_id=APP_ID, workflow_id="ios-release", branch="feature/x y"))

    assert rsps.calls[0].request.url == (
        f"{API}/builds?appId={APP_ID}&workflowId=ios-release&branch=feature%2Fx+y"
    )


def test_list_builds_tag_filter_sent(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/builds",
        json=_page(_builds(0, 1, branch=None, tag="v1.2.0"), None),
        match=[matchers.query_param_matcher({"tag": "v1.2.0"})],
    )

    assert len(list(make_client().list_builds(tag="v1.2.0"))) == 1


def test_list_builds_filters_on_client(rsps: responses.RequestsMock) -> None:
    other_branch = build_json("b-other", status="finished", branch="develop")
    rsps.get(f"{API}/builds", json=_page([*_builds(0, 2), other_branch], None))

    builds = list(make_client().list_builds(branch="main"))

    assert [build.id for build in builds] == ["b000", "b001"]


def test_list_builds_yields_shifted_build_once(rsps: responses.RequestsMock) -> None:
    # A new build started between the two requests pushes b029 onto the second page.
    rsps.get(f"{API}/builds", json=_page(_builds(0, 30), "/builds?skip=30"))
    rsps.get(f"{API}/builds", json=_page(_builds(29, 3), None))

    ids = [build.id for build in make_client().list_builds()]

    assert len(ids) == 32
    assert len(set(ids)) == 32


def test_list_builds_skip_without_next_page_url(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json={"builds": _builds(0, 30)})
    rsps.get(
        f"{API}/builds",
        json={"builds": []},
        match=[matchers.query_param_matcher({"skip": "30"})],
    )

    assert len(list(make_client().list_builds())) == 30


def test_list_builds_short_page_without_next_page_url(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json={"builds": _builds(0, 29)})

    assert len(list(make_client().list_builds())) == 29


def test_list_builds_stops_on_non_advancing_skip(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json=_page(_builds(0, 30), "/builds?skip=0"))

    assert len(list(make_client().list_builds())) == 30


def test_list_builds_null_builds(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/builds", json={"builds": None, "nextPageUrl": None})

    assert list(make_client().list_builds()) == []


# cancel_build


def test_cancel_build_is_post(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds/{BUILD_ID}/cancel", status=200, json={})

    result = make_client().cancel_build(BUILD_ID)

    assert result is CancelResult.CANCELED
    assert rsps.calls[0].request.method == "POST"


def test_cancel_build_sends_token(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/builds/{BUILD_ID}/cancel",
        match=[matchers.header_matcher({"x-auth-token": FAKE_TOKEN})],
    )

    make_client().cancel_build(BUILD_ID)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "text/plain"),
        ("Already Reported", "text/plain"),
        ('{"build": {"_id": "x", "status": "finished"}}', "application/json"),
        ("{not json", "application/json"),
    ],
    ids=["empty", "plain-text", "json", "broken-json"],
)
def test_cancel_build_208_already_finished(
    rsps: responses.RequestsMock, body: str, content_type: str
) -> None:
    rsps.post(f"{API}/builds/{BUILD_ID}/cancel", status=208, body=body, content_type=content_type)

    assert make_client().cancel_build(BUILD_ID) is CancelResult.ALREADY_FINISHED


def test_cancel_build_retried_after_timeout(ordered: responses.RequestsMock) -> None:
    ordered.post(f"{API}/builds/{BUILD_ID}/cancel", body=requests.exceptions.ReadTimeout())
    ordered.post(f"{API}/builds/{BUILD_ID}/cancel", status=208)

    assert make_client().cancel_build(BUILD_ID) is CancelResult.ALREADY_FINISHED


def test_cancel_build_unknown_build(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds/{BUILD_ID}/cancel", status=404)

    with pytest.raises(NotFoundError):
        make_client().cancel_build(BUILD_ID)


# Applications


def test_get_app(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/apps/{APP_ID}",
        json={"application": {"_id": APP_ID, "appName": "counter_flutter", "branches": ["main"]}},
    )

    application = make_client().get_app(APP_ID)

    assert application.app_name == "counter_flutter"
    assert application.branches == ["main"]


def test_list_apps(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/apps",
        json={
            "applications": [
                {"_id": "a1", "appName": "one"},
                {"_id": "a2", "appName": "two"},
            ],
            "builds": [],
        },
    )

    assert [app.id for app in make_client().list_apps()] == ["a1", "a2"]


def test_get_app_forbidden_names_app(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/apps/{APP_ID}", status=403, json={"error": "Forbidden"})

    with pytest.raises(TokenRejectedError, match=f"its user may access app {APP_ID}"):
        make_client().get_app(APP_ID)
