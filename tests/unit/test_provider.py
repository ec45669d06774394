"""Tests of BuildProvider outside create, read and delete: configuration, pickling, check,
diff, update, and calls from several threads."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import dill
import pytest
import responses
from provider_fakes import (
    API,
    APP_ID,
    FAKE_TOKEN,
    FakeClock,
    add_get,
    build_json,
    inputs,
    make_provider,
)
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from pulumi_codemagic.errors import MissingTokenError
from pulumi_codemagic.provider import PROVIDER_KEY, BuildProvider

TOKEN_VARIABLES = ("CODEMAGIC_API_TOKEN", "CM_API_TOKEN", "CODEMAGIC_API_URL")


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# --- configuration ---------------------------------------------------------------------------


def test_configure_sends_config_token(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_get(api, build_json("building"))
    provider.read(build_json("building")["_id"], inputs())
    assert api.calls[0].request.headers["x-auth-token"] == FAKE_TOKEN


def test_configure_falls_back_to_environment(
    clock: FakeClock,
    lines: list[str],
    api: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEMAGIC_API_TOKEN", "cm-fake-token-ENV-1111")
    monkeypatch.setenv("CODEMAGIC_API_URL", API)
    provider = make_provider(clock, lines, config={})
    add_get(api, build_json("building"))
    provider.read(build_json("building")["_id"], inputs())
    assert api.calls[0].request.headers["x-auth-token"] == "cm-fake-token-ENV-1111"


def test_missing_token_fails_first_api_call(clock: FakeClock, lines: list[str]) -> None:
    provider = make_provider(clock, lines, config={"codemagic:apiUrl": API})
    with pytest.raises(MissingTokenError) as raised:
        provider.create(inputs())
    assert "pulumi config set --secret codemagic:token <token>" in str(raised.value)


def test_missing_token_passes_check_and_diff(clock: FakeClock, lines: list[str]) -> None:
    provider = make_provider(clock, lines, config={})
    with responses.RequestsMock():  # any HTTP request would fail the test
        checked = provider.check({}, inputs())
        diffed = provider.diff("id", inputs(), inputs())
    assert checked.failures == []
    assert diffed.changes is False


# --- pickling --------------------------------------------------------------------------------


def pickled(provider: BuildProvider) -> bytes:
    return base64.b64decode(serialize_provider(provider))


def test_pickle_leaves_out_token(provider: BuildProvider) -> None:
    assert FAKE_TOKEN.encode() not in pickled(provider)


def test_pickle_leaves_out_api_url(provider: BuildProvider) -> None:
    assert API.encode() not in pickled(provider)


def test_pickle_same_before_and_after_configure(provider: BuildProvider) -> None:
    assert pickled(provider) == pickled(BuildProvider())


def test_pickle_refers_to_importable_class(provider: BuildProvider) -> None:
    assert b"pulumi_codemagic.provider" in pickled(provider)


def test_unpickled_provider_has_no_token(provider: BuildProvider) -> None:
    restored = dill.loads(pickled(provider))
    with pytest.raises(MissingTokenError):
        restored.create(inputs())


# --- check -----------------------------------------------------------------------------------


def test_check_returns_defaults(provider: BuildProvider) -> None:
    result = provider.check({}, {"app_id": APP_ID, "workflow_id": "w", "tag": "v1"})
    assert result.inputs["wait_timeout_minutes"] == 180
    assert result.failures == []


def test_check_names_each_bad_property(provider: BuildProvider) -> None:
    result = provider.check({}, {"app_id": "", "workflow_id": "w", "poll_interval_seconds": 0})
    assert sorted(failure.property for failure in result.failures) == [
        "app_id",
        "branch",
        "poll_interval_seconds",
    ]


# --- diff ------------------------------------------------------------------------------------

REPLACE_CHANGES: list[tuple[str, Any]] = [
    ("app_id", "74f0a1b2c3d4e5f6a7b8c9d0"),
    ("workflow_id", "ios-release"),
    ("branch", "develop"),
    ("environment", {"variables": {"FLAVOR": "dev"}}),
    ("labels", ["nightly"]),
    ("instance_type", "mac_mini_m2"),
    ("triggers", ["sha-2"]),
]

UPDATE_CHANGES: list[tuple[str, Any]] = [
    ("wait_for_completion", False),
    ("wait_timeout_minutes", 60),
    ("poll_interval_seconds", 10),
    ("success_statuses", ["finished"]),
    ("cancel_on_delete", False),
    ("public_artefact_url_ttl_hours", 24),
]


def stored_state(**overrides: Any) -> dict[str, Any]:
    """Return state as the engine passes it to diff: outputs, numbers as floats."""
    state = inputs(triggers=["sha-1"], **overrides)
    state.update(
        {
            PROVIDER_KEY: "old-pickled-provider",
            "build_id": "65aa00112233445566778899",
            "status": "finished",
            "build_number": 48.0,
            "wait_timeout_minutes": 180.0,
            "poll_interval_seconds": 30.0,
        }
    )
    return state


@pytest.mark.parametrize(("key", "value"), REPLACE_CHANGES, ids=[c[0] for c in REPLACE_CHANGES])
def test_diff_replaces_on_build_input(provider: BuildProvider, key: str, value: Any) -> None:
    news = inputs(**{"triggers": ["sha-1"], key: value})
    result = provider.diff("id", stored_state(), news)
    assert result.replaces == [key]
    assert result.changes is True


def test_diff_replaces_branch_with_tag(provider: BuildProvider) -> None:
    news = inputs(triggers=["sha-1"], branch=None, tag="v1.0.0")
    result = provider.diff("id", stored_state(), news)
    assert result.replaces == ["branch", "tag"]


@pytest.mark.parametrize(("key", "value"), UPDATE_CHANGES, ids=[c[0] for c in UPDATE_CHANGES])
def test_diff_updates_setting_in_place(provider: BuildProvider, key: str, value: Any) -> None:
    news = inputs(**{"triggers": ["sha-1"], key: value})
    result = provider.diff("id", stored_state(), news)
    assert result.replaces == []
    assert result.changes is True


def test_diff_ignores_new_provider(provider: BuildProvider) -> None:
    news = {**inputs(triggers=["sha-1"]), PROVIDER_KEY: "new-pickled-provider"}
    result = provider.diff("id", stored_state(), news)
    assert result.changes is False


def test_diff_explicit_defaults_no_change(provider: BuildProvider) -> None:
    news = inputs(
        triggers=["sha-1"],
        environment={"variables": {}},
        labels=[],
        success_statuses=["warning", "finished"],
        wait_timeout_minutes=180,
    )
    result = provider.diff("id", stored_state(), news)
    assert result.changes is False


def test_diff_unknown_trigger_replaces(provider: BuildProvider) -> None:
    news = inputs(triggers=[Unknown()])
    result = provider.diff("id", stored_state(), news)
    assert result.replaces == ["triggers"]


def test_diff_keeps_create_before_delete(provider: BuildProvider) -> None:
    result = provider.diff("id", stored_state(), inputs(triggers=["sha-2"]))
    assert result.delete_before_replace is False


# --- update ----------------------------------------------------------------------------------


def test_update_stores_settings_without_api(provider: BuildProvider) -> None:
    news = inputs(triggers=["sha-1"], wait_timeout_minutes=60, cancel_on_delete=False)
    with responses.RequestsMock():  # any HTTP request would fail the test
        result = provider.update("id", stored_state(), news)
    assert result.outs is not None
    assert result.outs["wait_timeout_minutes"] == 60
    assert result.outs["cancel_on_delete"] is False
    assert result.outs["status"] == "finished"
    assert result.outs["build_id"] == "65aa00112233445566778899"
    assert PROVIDER_KEY not in result.outs


# --- threads ---------------------------------------------------------------------------------


def test_concurrent_creates_stay_separate(
    provider: BuildProvider, api: responses.RequestsMock, lines: list[str]
) -> None:
    """Four creates at once, as the plugin's four worker threads may run them."""
    app_ids = [f"{index:024x}" for index in range(1, 5)]

    def start(request: Any) -> tuple[int, dict[str, str], str]:
        app_id = json.loads(request.body)["appId"]
        return 200, {}, json.dumps({"buildId": "b" + app_id[1:]})

    def get(request: Any) -> tuple[int, dict[str, str], str]:
        build_id = request.url.rsplit("/", 1)[-1]
        build = build_json("finished", build_id=build_id, appId="0" + build_id[1:])
        return 200, {}, json.dumps({"build": build})

    api.add_callback(responses.POST, f"{API}/builds", callback=start)
    api.add_callback(responses.GET, re.compile(rf"{re.escape(API)}/builds/\w+"), callback=get)

    results: dict[str, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(app_ids))

    def create(app_id: str) -> None:
        try:
            barrier.wait()
            results[app_id] = provider.create(inputs(app_id=app_id)).id
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(app_id,)) for app_id in app_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == {app_id: "b" + app_id[1:] for app_id in app_ids}
    assert len(lines) == len(app_ids)
