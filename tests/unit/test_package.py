"""Tests of the package root: its exports and what importing it loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pulumi_codemagic


@pytest.mark.parametrize("name", pulumi_codemagic.__all__)
def test_package_export_resolves(name: str) -> None:
    assert getattr(pulumi_codemagic, name) is not None


def test_package_unknown_name_raises() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = pulumi_codemagic.NoSuchName  # type: ignore[attr-defined]


def test_package_import_skips_pulumi_sdk() -> None:
    # A fresh interpreter, because this test process has already imported the Pulumi SDK.
    code = "import sys, pulumi_codemagic; print('pulumi' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "False"


def test_package_resource_loads_pulumi_sdk() -> None:
    code = "import sys, pulumi_codemagic; pulumi_codemagic.Build; print('pulumi' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "True"
