"""One log line per request, without tokens."""

from __future__ import annotations

import logging
import re

import pytest
import requests
from emulator_helpers import START_TIME, TOKEN, Api

from pulumi_codemagic.emulator import EmulatorHandle

LOGGER = "pulumi_codemagic.emulator.middleware"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


def test_request_logged_in_one_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)

    api.get("/apps")

    assert any(re.fullmatch(r"GET /apps 200 \d+\.\d ms", line) for line in _lines(caplog))


def test_log_never_contains_token(
    api: Api, manual: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    build_id = api.start()
    api.get(f"/builds?appId=x&token={TOKEN}")
    api.get("/apps", token="cm-fake-token-wrong")

    manual.advance(build_id, steps=10)
    # The client library's own debug lines show the URL it requested; only the
    # emulator's and uvicorn's lines count here.
    server_text = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("pulumi_codemagic", "uvicorn"))
    )
    assert "GET /builds?appId=x&token=<redacted> 200" in server_text
    assert TOKEN not in server_text
    assert "cm-fake-token-wrong" not in server_text


def test_log_keeps_filters_and_redacts_other_query(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)

    api.get("/builds", params={"branch": "main", "secret": "s3"})

    assert any(
        line.startswith("GET /builds?branch=main&secret=<redacted> 200") for line in _lines(caplog)
    )


def test_log_redacts_public_url_token(
    api: Api, manual: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=10)
    artefact = api.build(build_id)["artefacts"][0]
    url = api.post(
        f"{artefact['url']}/public-url", json={"expiresAt": int(START_TIME) + 60}
    ).json()["url"]
    caplog.set_level(logging.INFO, logger=LOGGER)

    api.get(url, token=None)

    token = url.rsplit("/.", 1)[1]
    assert token not in caplog.text
    assert any(line.startswith("GET /artifacts/.<redacted> 200") for line in _lines(caplog))


def test_dropped_request_logged_with_fault(
    api: Api, manual: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    manual.set_faults({"script": ["drop"]})

    with pytest.raises(requests.ConnectionError):
        api.get("/apps")

    assert "GET /apps dropped" in "\n".join(_lines(caplog))
    assert any(line.endswith(" fault=drop") for line in _lines(caplog))
