"""Unit tests of the ArtefactFile provider, with the API mocked by `responses`."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from pathlib import Path

import dill
import pytest
import responses
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from responses import matchers

from pulumi_codemagic.artefact_file import ArtefactFileProvider
from pulumi_codemagic.errors import ArtefactIntegrityError, MissingTokenError, NotFoundError

FAKE_TOKEN = "cm-fake-token-ARTEFACT-51c2"
API = "https://codemagic-api.invalid"
CONTENT = b"PK\x03\x04 fake apk bytes " * 64
MD5 = hashlib.md5(CONTENT).hexdigest()
ARTEFACT_URL = f"{API}/artifacts/0f1e2d3c/4b5a6978/app-release.apk"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> ArtefactFileProvider:
    for name in ("CODEMAGIC_API_TOKEN", "CM_API_TOKEN", "CODEMAGIC_API_URL"):
        monkeypatch.delenv(name, raising=False)
    configured = ArtefactFileProvider()
    configured.configure(_configure_request(token=FAKE_TOKEN, api_url=API))
    return configured


def _configure_request(*, token: str | None, api_url: str | None) -> ConfigureRequest:
    raw = {"codemagic:token": token, "codemagic:apiUrl": api_url}
    return ConfigureRequest(Config({k: v for k, v in raw.items() if v is not None}, "deploy"))


def _props(target: Path, **overrides: object) -> dict[str, object]:
    props: dict[str, object] = {
        "url": ARTEFACT_URL,
        "path": str(target),
        "md5": MD5,
        "size": len(CONTENT),
    }
    props.update(overrides)
    return props


# create


def test_create_downloads_with_token(
    api: responses.RequestsMock, provider: ArtefactFileProvider, tmp_path: Path
) -> None:
    api.get(
        ARTEFACT_URL,
        body=CONTENT,
        match=[matchers.header_matcher({"x-auth-token": FAKE_TOKEN})],
    )
    target = tmp_path / "published" / "app.apk"

    result = provider.create(_props(target))

    assert result.id == str(target)
    assert target.read_bytes() == CONTENT
    assert result.outs is not None
    assert result.outs["md5"] == MD5
    assert result.outs["size"] == len(CONTENT)
    assert result.outs["path"] == str(target)


def test_create_md5_mismatch_writes_nothing(
    api: responses.RequestsMock, provider: ArtefactFileProvider, tmp_path: Path
) -> None:
    api.get(ARTEFACT_URL, body=CONTENT)
    target = tmp_path / "app.apk"

    with pytest.raises(ArtefactIntegrityError):
        provider.create(_props(target, md5="0" * 32))

    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_create_without_expectations_records_actual_md5(
    api: responses.RequestsMock, provider: ArtefactFileProvider, tmp_path: Path
) -> None:
    api.get(ARTEFACT_URL, body=CONTENT)

    result = provider.create(_props(tmp_path / "app.apk", md5=None, size=None))

    assert result.outs is not None
    assert result.outs["md5"] == MD5
    assert result.outs["size"] == len(CONTENT)


def test_create_gone_artefact_raises_not_found(
    api: responses.RequestsMock, provider: ArtefactFileProvider, tmp_path: Path
) -> None:
    api.get(ARTEFACT_URL, status=404, json={"error": "NOT_FOUND", "message": "gone"})
    target = tmp_path / "app.apk"

    with pytest.raises(NotFoundError) as raised:
        provider.create(_props(target))

    assert not target.exists()
    assert FAKE_TOKEN not in str(raised.value)


def test_create_without_token_names_config_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("CODEMAGIC_API_TOKEN", "CM_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    unconfigured = ArtefactFileProvider()
    unconfigured.configure(_configure_request(token=None, api_url=API))

    with pytest.raises(MissingTokenError, match="pulumi config set --secret codemagic:token"):
        unconfigured.create(_props(tmp_path / "app.apk"))


# check


@pytest.mark.parametrize(
    ("prop", "value", "fragment"),
    [
        ("url", "ftp://example.invalid/app.apk", "http or https"),
        ("path", "relative/app.apk", "absolute"),
        ("md5", "not-a-checksum", "32 lowercase hex digits"),
        ("size", -1, "0 or more bytes"),
    ],
    ids=["url-scheme", "relative-path", "md5-format", "negative-size"],
)
def test_check_reports_bad_property(
    provider: ArtefactFileProvider, tmp_path: Path, prop: str, value: object, fragment: str
) -> None:
    result = provider.check({}, _props(tmp_path / "app.apk", **{prop: value}))

    assert [failure.property for failure in result.failures] == [prop]
    assert fragment in result.failures[0].reason


def test_check_accepts_valid_inputs(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    result = provider.check({}, _props(tmp_path / "app.apk"))

    assert result.failures == []


# diff


def test_diff_new_url_replaces(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    old = _props(tmp_path / "app.apk")
    new = _props(tmp_path / "app.apk", url=f"{API}/artifacts/other/other/app-release.apk")

    result = provider.diff(str(tmp_path / "app.apk"), old, new)

    assert result.changes is True
    assert result.replaces == ["url"]
    assert result.delete_before_replace is True


def test_diff_omitted_md5_is_no_change(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    old = _props(tmp_path / "app.apk")
    new = _props(tmp_path / "app.apk", md5=None, size=None)

    result = provider.diff(str(tmp_path / "app.apk"), old, new)

    assert result.changes is False
    assert result.replaces == []


# read and delete


def test_read_existing_file_reports_its_md5(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    target = tmp_path / "app.apk"
    target.write_bytes(CONTENT)

    result = provider.read(str(target), _props(target, md5=None))

    assert result.id == str(target)
    assert result.outs["md5"] == MD5


def test_read_missing_file_leaves_state(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    result = provider.read(str(tmp_path / "gone.apk"), _props(tmp_path / "gone.apk"))

    assert result.id is None


def test_delete_removes_file(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    target = tmp_path / "app.apk"
    target.write_bytes(CONTENT)

    provider.delete(str(target), _props(target))

    assert not target.exists()


def test_delete_missing_file_is_no_error(provider: ArtefactFileProvider, tmp_path: Path) -> None:
    provider.delete(str(tmp_path / "gone.apk"), _props(tmp_path / "gone.apk"))

    assert not (tmp_path / "gone.apk").exists()


# pickling


@pytest.mark.parametrize("dumps", [pickle.dumps, dill.dumps], ids=["pickle", "dill"])
def test_pickled_provider_has_no_token(provider: ArtefactFileProvider, dumps: object) -> None:
    assert callable(dumps)
    pickled = dumps(provider)

    assert FAKE_TOKEN.encode() not in pickled
    assert API.encode() not in pickled
