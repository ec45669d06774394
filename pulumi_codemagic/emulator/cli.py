"""Command line entry point ``codemagic-emulator``: serve the emulator until a signal.

The first line on stdout is ``Codemagic emulator listening on <base URL>``, flushed
at once, so a script can start the emulator with ``--port 0`` and read the URL.
Request logs go to stderr. SIGTERM and SIGINT shut the server down cleanly, and the
process exits with status 0. It exits with 1 if the server stops on its own. It
exits with 2 on invalid options, an invalid config file or a port that is in use.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

from .config import UNSET, ConfigError, Unset, load_config
from .faults import FaultSettings
from .server import DEFAULT_PHASE_SECONDS, DEFAULT_TOKEN, EmulatorServer, build_emulator

logger = logging.getLogger(__name__)

TOKEN_ENVIRONMENT_VARIABLE = "CODEMAGIC_EMULATOR_TOKEN"

_FAULT_OPTIONS = {
    "fault_error_rate": "error_rate",
    "fault_rate_limit_rate": "rate_limit_rate",
    "fault_drop_rate": "drop_rate",
    "fault_drop_after_rate": "drop_after_rate",
    "fault_latency_seconds": "latency_seconds",
    "fault_seed": "seed",
}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``codemagic-emulator``."""
    parser = argparse.ArgumentParser(
        prog="codemagic-emulator",
        description=(
            "Serve a local emulator of the Codemagic REST API. Admin routes under "
            "/_emulator/ need no token; keep the default loopback address."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one (default: %(default)s)"
    )

    parser.add_argument(
        "--token",
        default=None,
        help=(
            f"token accepted in x-auth-token (default: ${TOKEN_ENVIRONMENT_VARIABLE}, "
            f"else {DEFAULT_TOKEN!r})"
        ),
    )

    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="emulator config file (default: the bundled sample apps)",
    )

    speed = parser.add_mutually_exclusive_group()
    speed.add_argument(
        "--phase-seconds",
        type=float,
        default=None,
        help=(
            "seconds a build spends in each in-progress status "
            f"(default: the config's phaseSeconds, else {DEFAULT_PHASE_SECONDS:g})"
        ),
    )
    speed.add_argument(
        "--manual",
        action="store_true",
        help="manual mode: builds move only through POST /_emulator/advance",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for build ids and artefact bytes"
    )

    faults = parser.add_argument_group("fault injection (off unless set)")
    faults.add_argument(
        "--fault-error-rate", type=float, help="fraction of API requests that get a 503 response"
    )
    faults.add_argument(
        "--fault-rate-limit-rate",
        type=float,
        help="fraction of API requests that get a 429 response",
    )
    faults.add_argument(
        "--fault-drop-rate", type=float, help="fraction of connections closed before handling"
    )
    faults.add_argument(
        "--fault-drop-after-rate",
        type=float,
        help="fraction of requests handled, then closed without a response",
    )
    faults.add_argument(
        "--fault-latency-seconds", type=float, help="delay in seconds added to every API request"
    )
    faults.add_argument("--fault-seed", type=int, help="seed of the fault sequence")

    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of the request log on stderr (default: %(default)s)",
    )

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT; return the exit status."""
    parser = build_parser()
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=options.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    token = options.token or os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or DEFAULT_TOKEN
    try:
        config = load_config(options.config)
        faults = _fault_settings(options, config.faults)
    except (ConfigError, ValueError) as error:
        print(f"codemagic-emulator: {error}", file=sys.stderr)
        return 2

    phase_seconds: float | Unset | None = UNSET
    if options.manual:
        phase_seconds = None
    elif options.phase_seconds is not None:
        if options.phase_seconds < 0:
            print("codemagic-emulator: --phase-seconds must not be negative", file=sys.stderr)
            return 2
        phase_seconds = options.phase_seconds

    state, app = build_emulator(
        token=token,
        phase_seconds=phase_seconds,
        config=config,
        faults=faults,
        seed=options.seed,
    )
    try:
        server = EmulatorServer(app, host=options.host, port=options.port)
    except OSError as error:
        print(
            f"codemagic-emulator: cannot listen on {options.host}:{options.port}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 2

    stop = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        logger.info("Received %s; stopping", signal.Signals(signal_number).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    server.start()
    print(f"Codemagic emulator listening on {server.base_url}", flush=True)
    mode = "manual" if state.phase_seconds is None else f"{state.phase_seconds:g} s per status"
    logger.info("Progression: %s; config: %s", mode, config.source_path)

    exit_status = 0
    while not stop.wait(0.2):
        if not server.is_alive():
            logger.error("The server thread stopped unexpectedly")
            exit_status = 1
            break
    server.stop()
    return exit_status


def _fault_settings(
    options: argparse.Namespace, configured: FaultSettings | None
) -> FaultSettings | None:
    """Overlay the --fault-* options on the config's fault settings."""
    changes = {
        field: getattr(options, option)
        for option, field in _FAULT_OPTIONS.items()
        if getattr(options, option) is not None
    }
    if not changes:
        return configured
    return replace(configured or FaultSettings(), **changes)
