"""Fixtures for the emulator tests: a shared manual-mode emulator and an API client.

Starting and stopping uvicorn costs about 0.2 s, so most tests share one emulator
per module and reset it before each test. Its clock is a `FakeTime`, so tests move
time explicitly and never sleep.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_helpers import START_TIME, TOKEN, Api, FakeTime

from pulumi_codemagic.emulator import EmulatorHandle, run_emulator


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[tuple[EmulatorHandle, FakeTime]]:
    fake_time = FakeTime()
    with run_emulator(token=TOKEN, phase_seconds=None, seed=11, clock=fake_time) as handle:
        yield handle, fake_time


@pytest.fixture
def fake_time(shared_emulator: tuple[EmulatorHandle, FakeTime]) -> FakeTime:
    return shared_emulator[1]


@pytest.fixture
def manual(shared_emulator: tuple[EmulatorHandle, FakeTime]) -> EmulatorHandle:
    """The shared emulator in manual mode, reset, with the fake clock at START_TIME."""
    handle, fake_time = shared_emulator
    handle.reset()
    fake_time.now = START_TIME
    return handle


@pytest.fixture
def api(manual: EmulatorHandle) -> Iterator[Api]:
    client = Api(manual.base_url)
    yield client
    client.close()
