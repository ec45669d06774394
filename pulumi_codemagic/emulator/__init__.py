"""Local emulator of the Codemagic REST API, for demos, tests and offline stacks.

The emulator is a real HTTP server (FastAPI on uvicorn) that serves the legacy API
routes the library uses (builds, apps, artefacts) with the JSON shapes the real
service sends. Builds move through Codemagic statuses on a configurable clock and
end as the outcome rules specify. Faults can be injected for reliability tests. Apps and
workflows come from sample codemagic.yaml files (see ``samples/``).

Start it from Python with `run_emulator` or from a shell with ``codemagic-emulator``
(``python -m pulumi_codemagic.emulator``). It needs the ``emulator`` extra
(``pip install 'pulumi-codemagic[emulator]'``); ``import pulumi_codemagic`` never
imports this subpackage.
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
    import yaml  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        f"the Codemagic emulator needs the 'emulator' extra ({error.name} is missing): "
        "pip install 'pulumi-codemagic[emulator]'"
    ) from error

from .config import ConfigError, EmulatorConfig, default_config_path, load_config
from .faults import FaultSettings
from .lifecycle import OutcomeRule
from .payloads import FAKE_VNC_PASSWORD
from .server import (
    DEFAULT_PHASE_SECONDS,
    DEFAULT_TOKEN,
    EmulatorHandle,
    EmulatorServer,
    build_emulator,
    run_emulator,
)

SAMPLE_APP_ID = "64f1c2a9e4b0d2a1c3b5e701"
"""Id of the sample Flutter app ``acme_shop`` (workflows android-release, ios-release)."""
SAMPLE_ANDROID_APP_ID = "64f1c2a9e4b0d2a1c3b5e702"
"""Id of the sample Android app ``acme_field_notes`` (workflow android-debug)."""

__all__ = [
    "DEFAULT_PHASE_SECONDS",
    "DEFAULT_TOKEN",
    "FAKE_VNC_PASSWORD",
    "SAMPLE_ANDROID_APP_ID",
    "SAMPLE_APP_ID",
    "ConfigError",
    "EmulatorConfig",
    "EmulatorHandle",
    "EmulatorServer",
    "FaultSettings",
    "OutcomeRule",
    "build_emulator",
    "default_config_path",
    "load_config",
    "run_emulator",
]
