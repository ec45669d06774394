"""Artefact bytes, authenticated download and public URLs."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pytest
from emulator_helpers import START_TIME, Api, FakeTime

from pulumi_codemagic.emulator import EmulatorHandle

UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"


def _finished(api: Api, manual: EmulatorHandle, **fields: Any) -> dict[str, Any]:
    build_id = api.start(**fields)
    manual.advance(build_id, steps=10)
    return api.build(build_id)


def _artefact(build: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [artefact for artefact in build["artefacts"] if artefact["name"] == name]
    assert matches, f"no artefact {name} in {[a['name'] for a in build['artefacts']]}"
    return matches[0]


@pytest.mark.parametrize(
    "workflow, name",
    [
        ("android-release", "app-release.apk"),
        ("android-release", "app-release.aab"),
        ("android-release", "mapping.txt"),
        ("ios-release", "Runner.ipa"),
        ("ios-release", "xcodebuild.log"),
        ("ios-release", "Runner.app.dSYM.zip"),
    ],
)
def test_download_matches_md5_and_size(
    api: Api, manual: EmulatorHandle, workflow: str, name: str
) -> None:
    artefact = _artefact(_finished(api, manual, workflowId=workflow), name)

    response = api.get(artefact["url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert hashlib.md5(response.content).hexdigest() == artefact["md5"]
    assert len(response.content) == artefact["size"]


def test_apk_fields(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")

    assert artefact["type"] == "apk"
    assert artefact["packageName"] == "com.example.acme_shop"
    assert artefact["versionName"] == "1.4.2"
    assert artefact["url"].startswith(f"{api.base_url}/artifacts/")
    assert artefact["url"].endswith(f"/{artefact['path']}")


def test_ipa_is_zip_with_payload(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual, workflowId="ios-release"), "Runner.ipa")

    content = api.get(artefact["url"]).content

    assert artefact["packageName"] == "com.example.acmeShop"
    assert "Payload/Runner.app/Info.plist" in zipfile.ZipFile(io.BytesIO(content)).namelist()


def test_artefact_size_is_a_few_kib(api: Api, manual: EmulatorHandle) -> None:
    build = _finished(api, manual)

    sizes = [artefact["size"] for artefact in build["artefacts"]]

    assert all(1024 <= size <= 16 * 1024 for size in sizes), sizes


def test_artefact_bytes_repeat_for_same_build(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")

    first = api.get(artefact["url"]).content
    second = api.get(artefact["url"]).content

    assert first == second


def test_artefact_bytes_differ_between_builds(api: Api, manual: EmulatorHandle) -> None:
    first = _artefact(_finished(api, manual), "app-release.apk")
    second = _artefact(_finished(api, manual), "app-release.apk")

    assert first["md5"] != second["md5"]
    assert first["url"] != second["url"]


def test_download_unknown_path_is_404(api: Api) -> None:
    path = (
        "/artifacts/00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/x.apk"
    )

    response = api.get(path)

    assert response.status_code == 404


def test_download_of_canceled_build_is_404(api: Api, manual: EmulatorHandle) -> None:
    build = _finished(api, manual)
    url = build["artefacts"][0]["url"]
    manual.force_status(build["_id"], "canceled")

    response = api.get(url)

    assert response.status_code == 404


def _public_url(api: Api, artefact: dict[str, Any], expires_at: Any) -> Any:
    return api.post(f"{artefact['url']}/public-url", json={"expiresAt": expires_at})


def test_public_url_shape(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")

    response = _public_url(api, artefact, int(START_TIME) + 3600)

    assert response.status_code == 200
    assert response.json()["url"].startswith(f"{api.base_url}/artifacts/.")
    assert response.json()["expiresAt"] == "2026-01-01T01:00:00+00:00"


def test_public_url_downloads_without_token(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")
    public_url = _public_url(api, artefact, int(START_TIME) + 3600).json()["url"]

    response = api.get(public_url, token=None)

    assert response.status_code == 200
    assert hashlib.md5(response.content).hexdigest() == artefact["md5"]


def test_public_url_fails_after_expiry(
    api: Api, manual: EmulatorHandle, fake_time: FakeTime
) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")
    public_url = _public_url(api, artefact, int(START_TIME) + 60).json()["url"]

    fake_time.now += 60
    response = api.get(public_url, token=None)

    assert response.status_code == 403
    assert response.json()["error"] == "FORBIDDEN"


def test_public_url_expiry_follows_admin_clock(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")
    public_url = _public_url(api, artefact, int(START_TIME) + 60).json()["url"]

    before = api.get(public_url, token=None)
    manual.advance_clock(61)
    after = api.get(public_url, token=None)

    assert before.status_code == 200
    assert after.status_code == 403


def test_public_url_tampered_token_is_403(api: Api, manual: EmulatorHandle) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")
    public_url = _public_url(api, artefact, int(START_TIME) + 60).json()["url"]

    response = api.get(public_url[:-2] + "xx", token=None)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "expires_at",
    [None, "1767229200", 1767229200.5, True, int(START_TIME) - 1, int(START_TIME)],
    ids=["missing", "string", "float", "bool", "past", "now"],
)
def test_public_url_rejects_invalid_expiry(
    api: Api, manual: EmulatorHandle, expires_at: Any
) -> None:
    artefact = _artefact(_finished(api, manual), "app-release.apk")
    body = {} if expires_at is None else {"expiresAt": expires_at}

    response = api.post(f"{artefact['url']}/public-url", json=body)

    assert response.status_code == 400


def test_public_url_unknown_artefact_is_404(api: Api) -> None:
    path = (
        "/artifacts/00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/x.apk"
    )

    response = api.post(f"{path}/public-url", json={"expiresAt": int(START_TIME) + 60})

    assert response.status_code == 404
