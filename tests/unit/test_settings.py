"""Unit tests of the stack settings that both dynamic providers read."""

from __future__ import annotations

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_codemagic.settings import ApiSettings

FAKE_TOKEN = "cm-fake-token-SETTINGS-90b1"


def _configured(raw: dict[str, str]) -> ApiSettings:
    settings = ApiSettings()
    settings.configure(ConfigureRequest(Config(raw, "project")))
    return settings


def test_settings_read_both_keys() -> None:
    settings = _configured(
        {"codemagic:token": FAKE_TOKEN, "codemagic:apiUrl": "http://127.0.0.1:8080"}
    )

    assert settings.values() == (FAKE_TOKEN, "http://127.0.0.1:8080")


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_settings_blank_values_are_unset(blank: str) -> None:
    settings = _configured({"codemagic:token": blank, "codemagic:apiUrl": blank})

    assert settings.values() == (None, None)


def test_settings_ignore_project_keys() -> None:
    settings = _configured({"project:token": FAKE_TOKEN})

    assert settings.values() == (None, None)


def test_settings_repr_hides_token() -> None:
    settings = _configured({"codemagic:token": FAKE_TOKEN})

    assert FAKE_TOKEN not in repr(settings)
    assert "from stack config" in repr(settings)
