from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses
from client_fakes import API, FAKE_TOKEN, RecordingSleep, make_client
from responses import matchers
from responses.registries import OrderedRegistry

from pulumi_codemagic.errors import (
    ArtefactIntegrityError,
    NotFoundError,
    RedirectRejectedError,
    TokenRejectedError,
    UnexpectedResponseError,
)
from pulumi_codemagic.models import Artefact

CONTENT = b"PK\x03\x04 fake apk bytes " * 100
ARTEFACT_URL = f"{API}/artifacts/2667d83f-a05b/d44b59f6-ebe9/app-release.apk"
STORAGE = "https://storage.example.net"


def _artefact(**fields: object) -> Artefact:
    values: dict[str, object] = {
        "name": "app-release.apk",
        "type": "apk",
        "url": ARTEFACT_URL,
        "md5": hashlib.md5(CONTENT).hexdigest(),
        "size": len(CONTENT),
    }
    values.update(fields)
    return Artefact.model_validate(values)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def _token_sent(call: responses.Call) -> bool:
    return "x-auth-token" in call.request.headers


# Public URLs


def test_public_url_created(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{ARTEFACT_URL}/public-url",
        json={"url": f"{API}/artifacts/.abc", "expiresAt": "2026-01-01T00:00:00+00:00"},
        match=[
            matchers.json_params_matcher({"expiresAt": 1767225600}),
            matchers.header_matcher({"x-auth-token": FAKE_TOKEN}),
        ],
    )

    public = make_client().create_public_url(ARTEFACT_URL, expires_at=1767225600)

    assert public.url == f"{API}/artifacts/.abc"
    assert public.expires_at == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_public_url_from_datetime(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{ARTEFACT_URL}/public-url",
        json={"url": f"{API}/artifacts/.abc", "expiresAt": "2026-01-01T00:00:00+00:00"},
        match=[matchers.json_params_matcher({"expiresAt": 1767225600})],
    )

    make_client().create_public_url(
        ARTEFACT_URL + "/", expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc)
    )


def test_public_url_past_expiry_rejected(rsps: responses.RequestsMock) -> None:
    with pytest.raises(ValueError, match="must be in the future"):
        make_client().create_public_url(ARTEFACT_URL, expires_at=1_600_000_000)


def test_public_url_naive_datetime_rejected(rsps: responses.RequestsMock) -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        make_client().create_public_url(ARTEFACT_URL, expires_at=datetime(2026, 6, 1))


def test_public_url_foreign_origin_rejected(rsps: responses.RequestsMock) -> None:
    with pytest.raises(ValueError, match="is not on the API origin"):
        make_client().create_public_url(f"{STORAGE}/files/app.apk", expires_at=1767225600)


def test_public_url_retried_after_503(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{ARTEFACT_URL}/public-url", status=503)
    rsps.post(
        f"{ARTEFACT_URL}/public-url",
        json={"url": f"{API}/artifacts/.abc", "expiresAt": "2026-01-01T00:00:00+00:00"},
    )

    make_client().create_public_url(ARTEFACT_URL, expires_at=1767225600)

    assert len(rsps.calls) == 2


def test_public_url_gone_artefact(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{ARTEFACT_URL}/public-url", status=404, json={"error": "NOT_FOUND"})

    with pytest.raises(NotFoundError, match="retention period"):
        make_client().create_public_url(ARTEFACT_URL, expires_at=1767225600)


# Downloads that succeed


def test_download_writes_file(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(
        ARTEFACT_URL,
        body=CONTENT,
        match=[matchers.header_matcher({"x-auth-token": FAKE_TOKEN})],
    )

    path = make_client().download_artefact(_artefact(), tmp_path / "out.apk")

    assert path == tmp_path / "out.apk"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.apk"]


def test_download_into_directory(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)

    path = make_client().download_artefact(_artefact(), tmp_path)

    assert path == tmp_path / "app-release.apk"


def test_download_name_cannot_escape_directory(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)
    target_dir = tmp_path / "artefacts"
    target_dir.mkdir()

    path = make_client().download_artefact(_artefact(name="../../evil.apk"), target_dir)

    assert path == target_dir / "evil.apk"


def test_download_without_md5_or_size(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)

    path = make_client().download_artefact(_artefact(md5=None, size=None), tmp_path / "a")

    assert path.read_bytes() == CONTENT


def test_download_md5_case_insensitive(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)
    artefact = _artefact(md5=hashlib.md5(CONTENT).hexdigest().upper())

    assert make_client().download_artefact(artefact, tmp_path / "a").exists()


def test_download_replaces_existing_file(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)
    target = tmp_path / "out.apk"
    target.write_bytes(b"old")

    make_client().download_artefact(_artefact(), target)

    assert target.read_bytes() == CONTENT


def test_download_retried_after_503(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=503)
    rsps.get(ARTEFACT_URL, body=CONTENT)

    assert make_client().download_artefact(_artefact(), tmp_path / "a").exists()


class _ResetAfterStart(io.RawIOBase):
    """A body that fails with a connection reset once reading has started."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        raise ConnectionResetError(104, "Connection reset by peer")


def test_download_retried_after_cut_transfer(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=io.BufferedReader(_ResetAfterStart()))
    rsps.get(ARTEFACT_URL, body=CONTENT)
    sleep = RecordingSleep()

    path = make_client(sleep).download_artefact(_artefact(), tmp_path / "a.apk")

    assert path.read_bytes() == CONTENT
    assert len(sleep.calls) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.apk"]


# Downloads that fail: never a file


def test_download_forbidden_writes_nothing(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(
        ARTEFACT_URL,
        status=403,
        json={
            "error": "FORBIDDEN",
            "message": "You don't have the permission to access the requested resource.",
        },
    )

    with pytest.raises(TokenRejectedError) as caught:
        make_client().download_artefact(_artefact(), tmp_path / "out.apk")

    assert list(tmp_path.iterdir()) == []
    assert "You don't have the permission" in str(caught.value)
    assert len(rsps.calls) == 1


def test_download_md5_mismatch(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)

    with pytest.raises(ArtefactIntegrityError, match="expected md5 0000"):
        make_client().download_artefact(_artefact(md5="0" * 32), tmp_path / "out.apk")

    assert list(tmp_path.iterdir()) == []


def test_download_size_mismatch(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=CONTENT)

    with pytest.raises(ArtefactIntegrityError, match="expected 1 bytes"):
        make_client().download_artefact(_artefact(size=1), tmp_path / "out.apk")

    assert list(tmp_path.iterdir()) == []


def test_download_error_keeps_existing_file(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, body=b'{"error": "oops"}')
    target = tmp_path / "out.apk"
    target.write_bytes(b"previous build")

    with pytest.raises(ArtefactIntegrityError):
        make_client().download_artefact(_artefact(), target)

    assert target.read_bytes() == b"previous build"


def test_download_gone_artefact(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=404)

    with pytest.raises(NotFoundError, match="30 days on personal accounts"):
        make_client().download_artefact(_artefact(), tmp_path / "out.apk")


def test_download_unexpected_2xx(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=204)

    with pytest.raises(UnexpectedResponseError, match="HTTP 204 instead of the file"):
        make_client().download_artefact(_artefact(), tmp_path / "out.apk")

    assert list(tmp_path.iterdir()) == []


def test_download_missing_directory(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        make_client().download_artefact(_artefact(), tmp_path / "missing" / "out.apk")


# Redirects


def test_redirect_same_origin_keeps_token(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": "/artifacts/moved/app.apk"})
    rsps.get(f"{API}/artifacts/moved/app.apk", body=CONTENT)

    make_client().download_artefact(_artefact(), tmp_path / "a")

    assert _token_sent(rsps.calls[1])


def test_redirect_other_host_drops_token(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": f"{STORAGE}/f?X-Sig=abc"})
    rsps.get(f"{STORAGE}/f?X-Sig=abc", body=CONTENT)

    make_client().download_artefact(_artefact(), tmp_path / "a")

    assert _token_sent(rsps.calls[0])
    assert not _token_sent(rsps.calls[1])


def test_redirect_other_port_drops_token(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=307, headers={"Location": "https://api.codemagic.io:8443/f"})
    rsps.get("https://api.codemagic.io:8443/f", body=CONTENT)

    make_client().download_artefact(_artefact(), tmp_path / "a")

    assert not _token_sent(rsps.calls[1])


def test_redirect_back_home_stays_without_token(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": f"{STORAGE}/hop"})
    rsps.get(f"{STORAGE}/hop", status=302, headers={"Location": f"{API}/artifacts/final"})
    rsps.get(f"{API}/artifacts/final", body=CONTENT)

    make_client().download_artefact(_artefact(), tmp_path / "a")

    assert not _token_sent(rsps.calls[2])


def test_artefact_on_other_host_no_token(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(f"{STORAGE}/files/app.apk", body=CONTENT)

    make_client().download_artefact(_artefact(url=f"{STORAGE}/files/app.apk"), tmp_path / "a")

    assert not _token_sent(rsps.calls[0])


def test_redirect_https_to_http_rejected(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=301, headers={"Location": "http://storage.example.net/f"})

    with pytest.raises(RedirectRejectedError) as caught:
        make_client().download_artefact(_artefact(), tmp_path / "a")

    assert str(caught.value) == (
        f"GET {ARTEFACT_URL} redirected from https to the unencrypted URL "
        "http://storage.example.net/f, so the download was stopped. Download the artefact from "
        "the Codemagic build page."
    )
    assert list(tmp_path.iterdir()) == []


def test_redirect_to_other_scheme_rejected(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": "ftp://storage.example.net/f"})

    with pytest.raises(RedirectRejectedError, match="redirected to a ftp URL"):
        make_client().download_artefact(_artefact(), tmp_path / "a")


def test_redirect_limit(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": "/artifacts/hop1"})
    for hop in range(1, 6):
        rsps.get(
            f"{API}/artifacts/hop{hop}",
            status=302,
            headers={"Location": f"/artifacts/hop{hop + 1}"},
        )

    with pytest.raises(RedirectRejectedError, match="redirected more than 5 times"):
        make_client().download_artefact(_artefact(), tmp_path / "a")

    assert len(rsps.calls) == 6


def test_redirect_without_location(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(ARTEFACT_URL, status=302)

    with pytest.raises(UnexpectedResponseError, match="without a Location header"):
        make_client().download_artefact(_artefact(), tmp_path / "a")


def test_redirect_logs_without_query_or_token(
    rsps: responses.RequestsMock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.get(ARTEFACT_URL, status=302, headers={"Location": f"{STORAGE}/f?X-Sig=sig-secret"})
    rsps.get(f"{STORAGE}/f?X-Sig=sig-secret", body=CONTENT)

    make_client().download_artefact(_artefact(), tmp_path / "a")

    assert f"GET {STORAGE}/f -> 200 (attempt 1)" in caplog.messages
    assert "sig-secret" not in caplog.text
    assert FAKE_TOKEN not in caplog.text
