"""Listing builds (paging, filters) and reading apps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from emulator_helpers import Api, FakeTime

from pulumi_codemagic.emulator import SAMPLE_ANDROID_APP_ID, SAMPLE_APP_ID


def _start_many(api: Api, fake_time: FakeTime, count: int) -> list[str]:
    build_ids = []
    for _ in range(count):
        build_ids.append(api.start())
        fake_time.now += 1
    return build_ids


def test_list_first_page_has_30_newest(api: Api, fake_time: FakeTime) -> None:
    build_ids = _start_many(api, fake_time, 35)

    body = api.get("/builds", params={"appId": SAMPLE_APP_ID}).json()

    assert [build["_id"] for build in body["builds"]] == build_ids[::-1][:30]
    assert body["nextPageUrl"] == f"/builds?appId={SAMPLE_APP_ID}&skip=30"


def test_list_second_page_has_rest(api: Api, fake_time: FakeTime) -> None:
    build_ids = _start_many(api, fake_time, 35)
    first = api.get("/builds", params={"appId": SAMPLE_APP_ID}).json()

    second = api.get(first["nextPageUrl"]).json()

    assert [build["_id"] for build in second["builds"]] == build_ids[::-1][30:]
    assert second["nextPageUrl"] is None


def test_list_indexes_descend(api: Api, fake_time: FakeTime) -> None:
    _start_many(api, fake_time, 3)

    builds = api.get("/builds").json()["builds"]

    assert [build["index"] for build in builds] == [3, 2, 1]


def test_list_without_filters_has_no_next_page(api: Api, fake_time: FakeTime) -> None:
    _start_many(api, fake_time, 2)

    body = api.get("/builds").json()

    assert len(body["builds"]) == 2
    assert body["nextPageUrl"] is None
    assert [app["_id"] for app in body["applications"]] == [SAMPLE_APP_ID]


def test_list_empty(api: Api) -> None:
    body = api.get("/builds").json()

    assert body == {"applications": [], "builds": [], "nextPageUrl": None}


def test_list_skip_beyond_end(api: Api, fake_time: FakeTime) -> None:
    _start_many(api, fake_time, 2)

    body = api.get("/builds", params={"skip": 40}).json()

    assert body["builds"] == []


@pytest.mark.parametrize("skip", ["-1", "ten", "1.5"], ids=["negative", "word", "fraction"])
def test_list_rejects_invalid_skip(api: Api, skip: str) -> None:
    response = api.get("/builds", params={"skip": skip})

    assert response.status_code == 400


def test_list_ignores_page_size_parameters(api: Api, fake_time: FakeTime) -> None:
    _start_many(api, fake_time, 3)

    body = api.get("/builds", params={"limit": 1, "perPage": 1}).json()

    assert len(body["builds"]) == 3


def _start_variety(api: Api) -> dict[str, str]:
    return {
        "main": api.start(branch="main"),
        "ios": api.start(workflowId="ios-release", branch="main"),
        "feature": api.start(branch="feature/x y"),
        "tag": api.start(branch=None, tag="v1.4.2"),
        "notes": api.start(
            appId=SAMPLE_ANDROID_APP_ID, workflowId="android-debug", branch="develop"
        ),
    }


FILTERS = [
    pytest.param({"appId": SAMPLE_ANDROID_APP_ID}, ["notes"], id="app"),
    pytest.param({"workflowId": "ios-release"}, ["ios"], id="workflow"),
    pytest.param({"branch": "main"}, ["ios", "main"], id="branch"),
    pytest.param({"branch": "feature/x y"}, ["feature"], id="branch-with-slash-and-space"),
    pytest.param({"tag": "v1.4.2"}, ["tag"], id="tag"),
    pytest.param(
        {"appId": SAMPLE_APP_ID, "workflowId": "android-release"},
        ["tag", "feature", "main"],
        id="app-and-workflow",
    ),
    pytest.param({"branch": "feature/x"}, [], id="branch-prefix-no-match"),
]


@pytest.mark.parametrize("params, expected", FILTERS)
def test_list_filters(api: Api, params: dict[str, str], expected: list[str]) -> None:
    ids = _start_variety(api)

    builds = api.get("/builds", params=params).json()["builds"]

    assert [build["_id"] for build in builds] == [ids[name] for name in expected]


def test_list_filter_url_encoded_in_raw_query(api: Api) -> None:
    ids = _start_variety(api)

    builds = api.get("/builds?branch=feature%2Fx%20y").json()["builds"]

    assert [build["_id"] for build in builds] == [ids["feature"]]


def test_next_page_keeps_encoded_filters(api: Api, fake_time: FakeTime) -> None:
    for _ in range(31):
        api.start(branch="feature/x y")

    next_url = api.get("/builds", params={"branch": "feature/x y"}).json()["nextPageUrl"]
    query = parse_qs(urlsplit(next_url).query)

    assert query == {"branch": ["feature/x y"], "skip": ["30"]}
    assert len(api.get(next_url).json()["builds"]) == 1


def test_list_apps(api: Api) -> None:
    body = api.get("/apps").json()

    assert set(body) == {"applications"}
    assert [app["_id"] for app in body["applications"]] == [SAMPLE_APP_ID, SAMPLE_ANDROID_APP_ID]


def test_get_app(api: Api) -> None:
    body = api.get(f"/apps/{SAMPLE_APP_ID}").json()

    application = body["application"]
    assert application["appName"] == "acme_shop"
    assert application["repository"]["defaultBranch"] == "main"
    assert application["workflowIds"] == []
    assert application["settingsSource"] == "file"


def test_get_app_last_build_id(api: Api) -> None:
    build_id = api.start()

    application = api.get(f"/apps/{SAMPLE_APP_ID}").json()["application"]

    assert application["lastBuildId"] == build_id


def test_get_app_unknown_is_404(api: Api) -> None:
    response = api.get("/apps/0123456789abcdef01234567")

    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"
