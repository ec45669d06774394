"""Fixtures of the Build provider's unit tests: a fake clock, the emitted lines, a provider.

A test module that needs another ``clock`` or ``provider`` (the waiting and ArtefactFile tests)
defines its own fixture of that name, which takes precedence over these.
"""

from __future__ import annotations

import pytest
from provider_fakes import FakeClock, make_provider

from pulumi_codemagic.provider import BuildProvider


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the provider sleeps."""
    return FakeClock()


@pytest.fixture
def lines() -> list[str]:
    """Progress lines the provider writes to the engine output, in order."""
    return []


@pytest.fixture
def provider(clock: FakeClock, lines: list[str]) -> BuildProvider:
    """A provider with the fake token and API address, the fake clock and ``lines``."""
    return make_provider(clock, lines)
