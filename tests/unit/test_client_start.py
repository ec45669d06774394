"""Idempotent build starts: no scenario may start a second build for one start_build call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
import requests
import responses
from client_fakes import API, APP_ID, BUILD_ID, RecordingSleep, build_json, make_client
from responses import matchers
from responses.registries import OrderedRegistry
from urllib3.exceptions import MaxRetryError, NewConnectionError

from pulumi_codemagic.errors import (
    BadRequestError,
    BuildStartUncertainError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TokenRejectedError,
)
from pulumi_codemagic.models import BuildEnvironment, StartBuildRequest
from pulumi_codemagic.retries import IDEMPOTENCY_LABEL_PREFIX

LABEL = "pulumi-codemagic-start-0123456789abcdef0123456789abcdef"
REQUEST = StartBuildRequest(app_id=APP_ID, workflow_id="ios-release", branch="main")


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def _post_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [call for call in rsps.calls if call.request.method == "POST"]


def _lookup_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [call for call in rsps.calls if call.request.method == "GET"]


def _list_page(*labels_per_build: list[str], next_page_url: str | None = None) -> dict[str, Any]:
    builds = [
        build_json(f"b{index:03d}", status="queued", labels=labels)
        for index, labels in enumerate(labels_per_build)
    ]
    return {"applications": [], "builds": builds, "nextPageUrl": next_page_url}


def _refused_connection_error() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: refused")
    return requests.ConnectionError(MaxRetryError(None, "/builds", reason=reason))  # type: ignore[arg-type]


def _add_lookup(rsps: responses.RequestsMock, page: dict[str, Any]) -> None:
    rsps.get(f"{API}/builds", json=page, match=[matchers.query_param_matcher({"appId": APP_ID})])


# Plain starts


def test_start_returns_build_id(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    assert make_client().start_build(REQUEST) == BUILD_ID
    assert len(_post_calls(rsps)) == 1


def test_start_adds_unique_label(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    make_client().start_build(REQUEST.model_copy(update={"labels": ["release"]}))

    labels = json.loads(rsps.calls[0].request.body)["labels"]
    assert labels[0] == "release"
    assert labels[1].startswith(IDEMPOTENCY_LABEL_PREFIX)
    assert len(labels) == 2


def test_start_body_with_caller_label(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/builds",
        json={"buildId": BUILD_ID},
        match=[
            matchers.json_params_matcher(
                {
                    "appId": APP_ID,
                    "workflowId": "ios-release",
                    "tag": "v1.2.0",
                    "environment": {"variables": {"GITHUB_TAG": "v1.2.0"}},
                    "labels": [LABEL],
                }
            ),
            matchers.header_matcher({"Content-Type": "application/json"}),
        ],
    )
    request = StartBuildRequest(
        app_id=APP_ID,
        workflow_id="ios-release",
        tag="v1.2.0",
        environment=BuildEnvironment(variables={"GITHUB_TAG": "v1.2.0"}),
    )

    make_client().start_build(request, idempotency_label=LABEL)


def test_start_caller_label_not_duplicated(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    make_client().start_build(
        REQUEST.model_copy(update={"labels": [LABEL]}), idempotency_label=LABEL
    )

    assert json.loads(rsps.calls[0].request.body)["labels"] == [LABEL]


def test_start_empty_label_rejected(rsps: responses.RequestsMock) -> None:
    with pytest.raises(ValueError, match="idempotency_label must not be empty"):
        make_client().start_build(REQUEST, idempotency_label=" ")


def test_start_flat_environment_rejected_before_http(rsps: responses.RequestsMock) -> None:
    with pytest.raises(
        pydantic.ValidationError, match=re.escape('"variables": {"GITHUB_TAG": "..."}')
    ):
        StartBuildRequest.model_validate(
            {
                "appId": APP_ID,
                "workflowId": "ios-release",
                "tag": "v1.2.0",
                "environment": {"GITHUB_TAG": "v1.2.0"},
            }
        )

    assert len(rsps.calls) == 0


# Rejections: raised at once, never retried


def test_start_workflow_not_found(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=400, json={"error": "Workflow not found"})

    with pytest.raises(BadRequestError) as caught:
        make_client().start_build(REQUEST)

    assert str(caught.value) == (
        "POST /builds failed with HTTP 400 Bad Request: Workflow not found. Check appId, "
        "workflowId and branch or tag. For a codemagic.yaml app, workflowId must be the "
        "workflow's key under `workflows:` in codemagic.yaml (such as `ios-release`), not its "
        "display name, and the branch or tag must contain that codemagic.yaml."
    )
    assert len(_post_calls(rsps)) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "Unauthorized"}), (403, {"error": "Forbidden"})],
    ids=["401", "403"],
)
def test_start_token_rejected(
    rsps: responses.RequestsMock, status: int, body: dict[str, str]
) -> None:
    rsps.post(f"{API}/builds", status=status, json=body)

    with pytest.raises(TokenRejectedError) as caught:
        make_client().start_build(REQUEST)

    assert str(caught.value) == (
        f"POST /builds failed with HTTP {status} {'Unauthorized' if status == 401 else 'Forbidden'}"
        f": {body['error']}. Check the API token: set it with `pulumi config set --secret "
        "codemagic:token <token>` or the CODEMAGIC_API_TOKEN environment variable, and check "
        f"that its user may access app {APP_ID}."
    )
    assert len(_post_calls(rsps)) == 1
    assert len(_lookup_calls(rsps)) == 0


# Retries that cannot duplicate: nothing was created


def test_start_429_retried(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=429, headers={"ratelimit-reset": "7"})
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})
    sleep = RecordingSleep()

    assert make_client(sleep).start_build(REQUEST) == BUILD_ID
    assert len(_post_calls(rsps)) == 2
    assert len(_lookup_calls(rsps)) == 0
    assert sleep.calls == [7.0]


def test_start_429_same_label_on_retry(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=429)
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    make_client().start_build(REQUEST)

    first, second = (json.loads(call.request.body)["labels"] for call in rsps.calls)
    assert first == second


def test_start_429_exhausted(rsps: responses.RequestsMock) -> None:
    for _ in range(3):
        rsps.post(f"{API}/builds", status=429, headers={"Retry-After": "2"})

    with pytest.raises(RateLimitedError):
        make_client(max_retries=2).start_build(REQUEST)

    assert len(_post_calls(rsps)) == 3


@pytest.mark.parametrize(
    "error",
    [requests.exceptions.ConnectTimeout(), _refused_connection_error()],
    ids=["connect-timeout", "refused"],
)
def test_start_not_sent_retried(rsps: responses.RequestsMock, error: Exception) -> None:
    rsps.post(f"{API}/builds", body=error)
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    assert make_client().start_build(REQUEST) == BUILD_ID
    assert len(_post_calls(rsps)) == 2
    assert len(_lookup_calls(rsps)) == 0


def test_start_not_sent_exhausted(rsps: responses.RequestsMock) -> None:
    for _ in range(2):
        rsps.post(f"{API}/builds", body=requests.exceptions.ConnectTimeout())

    with pytest.raises(RequestTimeoutError, match="failed after 2 attempts"):
        make_client(max_retries=1).start_build(REQUEST)

    assert len(_lookup_calls(rsps)) == 0


def test_start_ssl_error_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", body=requests.exceptions.SSLError("certificate verify failed"))

    with pytest.raises(RequestTimeoutError, match="TLS connection failed"):
        make_client().start_build(REQUEST)

    assert len(_post_calls(rsps)) == 1


# Uncertain outcomes: look for the label before sending again


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"body": requests.ConnectionError("Connection aborted.")},
        {"status": 500},
        {"status": 502},
        {"status": 503},
        {"status": 504},
    ],
    ids=["read-timeout", "dropped", "500", "502", "503", "504"],
)
def test_start_uncertain_found_by_label(
    rsps: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    rsps.post(f"{API}/builds", **failure)
    _add_lookup(rsps, _list_page(["other"], ["release", LABEL]))

    build_id = make_client().start_build(REQUEST, idempotency_label=LABEL)

    assert build_id == "b001"
    assert len(_post_calls(rsps)) == 1
    assert len(_lookup_calls(rsps)) == 1


def test_start_uncertain_not_found_resent(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=502)
    _add_lookup(rsps, _list_page(["other"]))
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    assert make_client().start_build(REQUEST, idempotency_label=LABEL) == BUILD_ID
    assert len(_post_calls(rsps)) == 2
    assert len(_lookup_calls(rsps)) == 1


def test_start_uncertain_generated_label_looked_up(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", body=requests.exceptions.ReadTimeout())

    def list_with_sent_label(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent_labels = json.loads(rsps.calls[0].request.body)["labels"]
        return 200, {}, json.dumps(_list_page(sent_labels))

    rsps.add_callback(responses.GET, f"{API}/builds", callback=list_with_sent_label)

    assert make_client().start_build(REQUEST) == "b000"
    assert len(_post_calls(rsps)) == 1


def test_start_uncertain_waits_before_lookup(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=504)
    _add_lookup(rsps, _list_page([LABEL]))
    sleep = RecordingSleep()

    make_client(sleep, random_fraction=1.0).start_build(REQUEST, idempotency_label=LABEL)

    assert sleep.calls == [0.5]


def test_start_lookup_reads_second_page(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=503)
    first_page = _list_page(*([["other"]] * 30), next_page_url=f"/builds?appId={APP_ID}&skip=30")
    _add_lookup(rsps, first_page)
    second_page = {
        "builds": [build_json("b-second", status="queued", labels=[LABEL])],
        "nextPageUrl": None,
    }
    rsps.get(
        f"{API}/builds",
        json=second_page,
        match=[matchers.query_param_matcher({"appId": APP_ID, "skip": "30"})],
    )

    assert make_client().start_build(REQUEST, idempotency_label=LABEL) == "b-second"
    assert len(_post_calls(rsps)) == 1


def test_start_lookup_stops_after_two_pages(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=503)
    page = {
        "builds": [build_json(f"p1-{i}", labels=[]) for i in range(30)],
        "nextPageUrl": "/builds?skip=30",
    }
    page_two = {
        "builds": [build_json(f"p2-{i}", labels=[]) for i in range(30)],
        "nextPageUrl": "/builds?skip=60",
    }
    rsps.get(f"{API}/builds", json=page)
    rsps.get(f"{API}/builds", json=page_two)
    rsps.post(f"{API}/builds", json={"buildId": BUILD_ID})

    assert make_client().start_build(REQUEST, idempotency_label=LABEL) == BUILD_ID
    assert len(_lookup_calls(rsps)) == 2


def test_start_uncertain_every_attempt_raises_last_error(rsps: responses.RequestsMock) -> None:
    for _ in range(3):
        rsps.post(f"{API}/builds", status=500, json={"error": "Internal Server Error"})
        _add_lookup(rsps, _list_page(["other"]))

    with pytest.raises(ServerError, match="HTTP 500"):
        make_client(max_retries=2).start_build(REQUEST, idempotency_label=LABEL)

    assert len(_post_calls(rsps)) == 3
    assert len(_lookup_calls(rsps)) == 3


@pytest.mark.parametrize(
    "lookup_failure",
    [{"status": 401, "json": {"error": "Unauthorized"}}, {"status": 503}],
    ids=["lookup-401", "lookup-503-after-retries"],
)
def test_start_uncertain_lookup_fails(
    rsps: responses.RequestsMock, lookup_failure: dict[str, Any]
) -> None:
    rsps.post(f"{API}/builds", body=requests.exceptions.ReadTimeout())
    rsps.get(f"{API}/builds", **lookup_failure)
    if lookup_failure["status"] == 503:
        rsps.get(f"{API}/builds", **lookup_failure)

    with pytest.raises(BuildStartUncertainError) as caught:
        make_client(max_retries=1).start_build(REQUEST, idempotency_label=LABEL)

    error = caught.value
    assert error.label == LABEL
    assert error.app_id == APP_ID
    assert error.workflow_id == "ios-release"
    assert "may or may not have succeeded" in str(error)
    assert f"search Codemagic for a build with the label {LABEL}" in str(error)
    assert len(_post_calls(rsps)) == 1


def test_start_uncertain_message(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=502)
    rsps.get(f"{API}/builds", status=403, json={"error": "Forbidden"})

    with pytest.raises(BuildStartUncertainError) as caught:
        make_client().start_build(REQUEST, idempotency_label=LABEL)

    assert str(caught.value) == (
        f"Starting a build of workflow 'ios-release' for app {APP_ID} may or may not have "
        "succeeded: Codemagic returned HTTP 502, and looking for the build afterwards failed "
        "too (TokenRejectedError, HTTP 403). Before starting it again, search Codemagic for a "
        f"build with the label {LABEL}."
    )


def test_start_unreadable_success_found(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=200, body="<html>proxy page</html>")
    _add_lookup(rsps, _list_page([LABEL]))

    assert make_client().start_build(REQUEST, idempotency_label=LABEL) == "b000"
    assert len(_post_calls(rsps)) == 1


def test_start_unreadable_success_not_found(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=200, json={"id": "wrong-key"})
    _add_lookup(rsps, _list_page(["other"]))

    with pytest.raises(BuildStartUncertainError, match="without a readable build id"):
        make_client().start_build(REQUEST, idempotency_label=LABEL)

    assert len(_post_calls(rsps)) == 1
