from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator

import pytest
import requests
import responses
from client_fakes import API, APP_ID, FAKE_TOKEN, make_client
from responses import matchers

from pulumi_codemagic._version import __version__
from pulumi_codemagic.client import DEFAULT_BASE_URL, CodemagicClient
from pulumi_codemagic.errors import MissingTokenError, UnexpectedResponseError


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CODEMAGIC_API_TOKEN", "CM_API_TOKEN", "CODEMAGIC_API_URL"):
        monkeypatch.delenv(name, raising=False)


# Token


def test_token_from_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_TOKEN", "cm-fake-env-token-0001")

    assert CodemagicClient(token=FAKE_TOKEN).token_source == "argument"


def test_token_from_codemagic_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_TOKEN", "cm-fake-env-token-0001")
    monkeypatch.setenv("CM_API_TOKEN", "cm-fake-env-token-0002")

    assert CodemagicClient().token_source == "CODEMAGIC_API_TOKEN"


def test_token_from_cm_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CM_API_TOKEN", "cm-fake-env-token-0002")

    assert CodemagicClient().token_source == "CM_API_TOKEN"


def test_token_empty_argument_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CM_API_TOKEN", "cm-fake-env-token-0002")

    assert CodemagicClient(token="  ").token_source == "CM_API_TOKEN"


def test_token_blank_env_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_TOKEN", " ")
    monkeypatch.setenv("CM_API_TOKEN", "cm-fake-env-token-0002")

    assert CodemagicClient().token_source == "CM_API_TOKEN"


def test_token_missing_message() -> None:
    with pytest.raises(MissingTokenError) as caught:
        CodemagicClient()

    assert str(caught.value) == (
        "No Codemagic API token was given: set it with "
        "`pulumi config set --secret codemagic:token <token>`, or set the CODEMAGIC_API_TOKEN "
        "or CM_API_TOKEN environment variable. Copy the token from Codemagic: Account settings "
        "> API token."
    )


def test_token_sent_stripped(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/apps",
        json={"applications": []},
        match=[matchers.header_matcher({"x-auth-token": FAKE_TOKEN})],
    )

    CodemagicClient(token=f" {FAKE_TOKEN}\n").list_apps()


# Base URL


def test_base_url_default() -> None:
    assert make_client().base_url == DEFAULT_BASE_URL


def test_base_url_argument_strips_slash() -> None:
    assert make_client(base_url="http://127.0.0.1:8080/").base_url == "http://127.0.0.1:8080"


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_URL", "http://127.0.0.1:9000//")

    assert make_client().base_url == "http://127.0.0.1:9000"


def test_base_url_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_URL", "http://127.0.0.1:9000")

    assert make_client(base_url="http://127.0.0.1:8080").base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("url", ["api.codemagic.io", "ftp://x", "https://", "https://h/?a=1"])
def test_base_url_invalid(url: str) -> None:
    with pytest.raises(ValueError, match="must be an http or https URL"):
        make_client(base_url=url)


def test_base_url_invalid_env_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEMAGIC_API_URL", "localhost:8080")

    with pytest.raises(ValueError, match="CODEMAGIC_API_URL must be"):
        make_client()


def test_base_url_path_prefix_kept(rsps: responses.RequestsMock) -> None:
    rsps.get("http://127.0.0.1:8080/api/apps", json={"applications": []})

    make_client(base_url="http://127.0.0.1:8080/api/").list_apps()


# Requests


def test_request_headers(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/apps",
        json={"applications": []},
        match=[
            matchers.header_matcher(
                {
                    "x-auth-token": FAKE_TOKEN,
                    "User-Agent": f"pulumi-codemagic/{__version__}",
                    "Accept": "application/json",
                }
            )
        ],
    )

    make_client().list_apps()


def test_request_timeouts(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/apps",
        json={"applications": []},
        match=[matchers.request_kwargs_matcher({"timeout": (5.0, 12.0)})],
    )

    make_client(connect_timeout_seconds=5.0, timeout_seconds=12.0).list_apps()


def test_request_redirect_not_followed(rsps: responses.RequestsMock) -> None:
    # Following it automatically would forward x-auth-token to whatever host it names.
    rsps.get(f"{API}/apps", status=302, headers={"Location": "https://elsewhere.example/apps"})

    with pytest.raises(UnexpectedResponseError, match="HTTP 302 Found") as caught:
        make_client().list_apps()

    assert len(rsps.calls) == 1
    assert caught.value.status == 302


@pytest.mark.parametrize(
    "options",
    [{"timeout_seconds": 0}, {"connect_timeout_seconds": -1}],
    ids=["read", "connect"],
)
def test_timeouts_must_be_positive(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be greater than 0"):
        make_client(**options)


def test_request_logged_without_token(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.get(f"{API}/apps/{APP_ID}", json={"application": {"_id": APP_ID, "appName": "x"}})

    make_client().get_app(APP_ID)

    assert f"GET /apps/{APP_ID} -> 200 (attempt 1)" in caplog.messages
    assert FAKE_TOKEN not in caplog.text


# Identity and lifecycle


def test_repr_shows_source_not_token() -> None:
    text = repr(make_client())

    assert text == "CodemagicClient(base_url='https://api.codemagic.io', token_source='argument')"
    assert FAKE_TOKEN not in str(make_client())


def test_pickle_rejected() -> None:
    with pytest.raises(TypeError, match="cannot be pickled") as caught:
        pickle.dumps(make_client())

    assert FAKE_TOKEN not in str(caught.value)


def test_closed_client_rejects_calls() -> None:
    client = make_client()
    client.close()

    with pytest.raises(RuntimeError, match="closed"):
        client.list_apps()


def test_context_manager_closes() -> None:
    with make_client() as client:
        pass

    with pytest.raises(RuntimeError, match="closed"):
        client.get_app(APP_ID)


def test_given_session_left_open(rsps: responses.RequestsMock) -> None:
    session = requests.Session()
    rsps.get(f"{API}/apps", json={"applications": []})
    with make_client(session=session):
        pass

    session.get(f"{API}/apps")
