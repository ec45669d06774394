"""Fixtures shared by every test folder.

``emulator`` serves the local Codemagic API emulator on a free loopback port for
one test, with the bundled sample apps and a fast clock. Each build spends 0.05 s
in every in-progress status, so a build that finishes ends about 0.35 s after it
starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pulumi_codemagic.emulator import EmulatorHandle

EMULATOR_TOKEN = "cm-fake-token-emulator"
"""Token the ``emulator`` fixture accepts; it is fake."""
EMULATOR_PHASE_SECONDS = 0.05


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    """Serve an emulator for one test; see ``EmulatorHandle`` for its admin methods."""
    # Imported here so that tests which never use the emulator do not load FastAPI.
    from pulumi_codemagic.emulator import run_emulator

    with run_emulator(token=EMULATOR_TOKEN, phase_seconds=EMULATOR_PHASE_SECONDS) as handle:
        yield handle
