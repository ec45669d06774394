"""Run the emulator on a loopback port in a background thread, and the test handle.

`run_emulator` is a context manager: it binds a socket (port 0 picks a free one),
starts uvicorn on it in a daemon thread, waits until the server accepts connections
and yields an `EmulatorHandle`. On exit it sets uvicorn's exit flag, joins the
thread and closes the socket, so no thread or socket outlives the block.

The server always uses uvicorn's h11 protocol, subclassed so that each request's
``scope["state"]`` contains a callable that closes its connection. The fault
injector uses it to drop connections without a response.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from .app import create_app
from .clock import EmulatorClock, TimeSource
from .config import UNSET, EmulatorConfig, Unset, load_config
from .faults import FaultSettings
from .lifecycle import OutcomeRule
from .middleware import CLOSE_CONNECTION_KEY, ASGIApp, EmulatorMiddleware
from .state import EmulatorState

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "emulator-token"
"""Default token of the emulator. It is public and fake."""
DEFAULT_PHASE_SECONDS = 2.0
"""Seconds per in-progress status when neither the caller nor the config sets one."""
STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class _ClosableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a per-connection close callable in the request state."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        connection_state = {**app_state, CLOSE_CONNECTION_KEY: self._close_transport}
        super().__init__(config, server_state, connection_state, _loop)
        # uvicorn logs access lines whenever its logger has handlers, and those lines
        # carry query strings; the emulator's middleware writes a redacted line instead.
        self.access_log = False

    def _close_transport(self) -> None:
        if self.transport is not None:
            self.transport.close()


def build_emulator(
    *,
    token: str = DEFAULT_TOKEN,
    phase_seconds: float | Unset | None = UNSET,
    config: EmulatorConfig | None = None,
    faults: FaultSettings | Unset | None = UNSET,
    seed: int | None = None,
    clock: TimeSource | None = None,
) -> tuple[EmulatorState, ASGIApp]:
    """Create the state and the ASGI app of one emulator, without serving it.

    Arguments left UNSET take the config file's value, then the default.
    """
    if not token:
        raise ValueError("the emulator token must not be empty")
    config = config or load_config(None)
    if phase_seconds is UNSET:
        phase_seconds = config.phase_seconds
    if phase_seconds is UNSET:
        phase_seconds = DEFAULT_PHASE_SECONDS
    if faults is UNSET:
        faults = config.faults

    state = EmulatorState(
        config,
        phase_seconds=phase_seconds,
        clock=EmulatorClock(clock) if clock is not None else None,
        faults=faults,
        seed=seed,
    )
    app = create_app(state, token=token)
    return state, EmulatorMiddleware(app, state, app.router.routes)


class EmulatorServer:
    """uvicorn serving one ASGI app on a bound socket, in a background thread."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = bind_socket(host, port)
        address = self._socket.getsockname()
        self.host = host
        self.port: int = address[1]
        self.base_url = f"http://{_url_host(host)}:{self.port}"
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            http=_ClosableH11Protocol,
            ws="none",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"codemagic-emulator-{self.port}", daemon=True
        )
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # reported by start() or is_alive()
            self._error = error
            logger.exception("Codemagic emulator on %s stopped with an error", self.base_url)

    def start(self, timeout_seconds: float = STARTUP_TIMEOUT_SECONDS) -> None:
        """Start serving; raise RuntimeError if the server is not up within the timeout."""
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the Codemagic emulator did not start on {self.base_url}: {self._error!r}"
                )
            time.sleep(0.01)
        logger.info("Codemagic emulator listening on %s", self.base_url)
        if not _is_loopback(self.host):
            logger.warning(
                "The emulator listens on %s: anyone who can reach it can use the admin "
                "routes under /_emulator/, which need no token",
                self.host,
            )

    def is_alive(self) -> bool:
        """Return whether the server thread is still running."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Shut the server down, join its thread and close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            logger.warning("Codemagic emulator on %s did not stop in time; forcing", self.base_url)
            self._server.force_exit = True
            self._thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        self._socket.close()
        logger.info("Codemagic emulator on %s stopped", self.base_url)


class EmulatorHandle:
    """Access to a running emulator: its URL and token, and direct admin operations.

    The admin methods act on the state directly (no HTTP), so they also work
    while faults are injected.
    """

    def __init__(self, *, base_url: str, token: str, state: EmulatorState) -> None:
        self.base_url = base_url
        """URL of the emulated API, such as ``http://127.0.0.1:54321`` (no slash)."""
        self.token = token
        """Token the emulator accepts in ``x-auth-token``."""
        self.state = state
        """The emulator's state; prefer the methods below."""

    def __repr__(self) -> str:
        return f"EmulatorHandle(base_url={self.base_url!r})"

    @property
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request to the emulated API."""
        return {"x-auth-token": self.token}

    @property
    def start_count(self) -> int:
        """Number of builds started through ``POST /builds`` since the last reset."""
        return self.state.start_count

    def builds(self) -> list[dict[str, Any]]:
        """Return every build with its start request and planned outcome, oldest first."""
        return self.state.admin_builds(self.base_url)

    def build(self, build_id: str) -> dict[str, Any]:
        """Return one build's admin detail; the ``build`` key contains the API object."""
        return self.state.admin_build(build_id, self.base_url)

    def set_outcome(
        self,
        status: str,
        *,
        message: str | None = None,
        app_id: str | None = None,
        workflow_id: str | None = None,
        branch: str | None = None,
        tag: str | None = None,
    ) -> None:
        """Make builds started from now on that match the conditions end in `status`."""
        rule = OutcomeRule(
            status=status,
            message=message,
            app_id=app_id,
            workflow_id=workflow_id,
            branch=branch,
            tag=tag,
        )
        self.state.add_outcome(rule)

    def clear_outcomes(self) -> None:
        """Remove the outcome rules set at run time."""
        self.state.clear_outcomes()

    def force_status(self, build_id: str, status: str, *, message: str | None = None) -> None:
        """Set a build's status at once; any string is accepted."""
        self.state.force_status(build_id, status, message)

    def advance(self, build_id: str | None = None, *, steps: int = 1) -> list[str]:
        """Move one build, or all unfinished builds, `steps` statuses forward."""
        return self.state.advance(build_id, steps=steps)

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator clock forward, as for public URL expiry."""
        self.state.clock.advance(seconds)

    def set_phase_seconds(self, phase_seconds: float | None) -> None:
        """Change the seconds per status; None switches to manual mode."""
        self.state.set_phase_seconds(phase_seconds)

    def set_faults(self, faults: FaultSettings | Mapping[str, object] | None) -> None:
        """Replace the fault settings; None switches faults off."""
        if faults is not None and not isinstance(faults, FaultSettings):
            faults = FaultSettings.from_mapping(faults)
        self.state.faults.configure(faults)

    def stats(self) -> dict[str, Any]:
        """Return the counters of ``GET /_emulator/stats``."""
        return self.state.stats()

    def reset(self) -> None:
        """Drop every build and counter and restore the configured settings."""
        self.state.reset()


@contextmanager
def run_emulator(
    *,
    token: str = DEFAULT_TOKEN,
    phase_seconds: float | Unset | None = UNSET,
    config_path: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultSettings | Mapping[str, object] | Unset | None = UNSET,
    seed: int | None = None,
    clock: TimeSource | None = None,
) -> Iterator[EmulatorHandle]:
    """Serve an emulator in a background thread for the duration of the block.

    :param token: value the API routes accept in ``x-auth-token``.
    :param phase_seconds: seconds per in-progress status; None or 0 is manual mode.
        Unset takes the config file's ``phaseSeconds``, then 2 seconds.
    :param config_path: emulator config file; None uses the bundled sample apps.
    :param host: address to listen on, loopback by default.
    :param port: port to listen on; 0 picks a free one (see ``handle.base_url``).
    :param faults: fault settings or their camelCase mapping; None switches faults
        off, unset takes the config file's.
    :param seed: seed for build ids and artefact bytes; None takes the config's.
    :param clock: time source in UNIX seconds, for tests; defaults to ``time.time``.
    """
    if isinstance(faults, Mapping):
        faults = FaultSettings.from_mapping(faults)
    state, app = build_emulator(
        token=token,
        phase_seconds=phase_seconds,
        config=load_config(config_path),
        faults=faults,
        seed=seed,
        clock=clock,
    )
    server = EmulatorServer(app, host=host, port=port)
    server.start()
    try:
        yield EmulatorHandle(base_url=server.base_url, token=token, state=state)
    finally:
        server.stop()


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to host and port, ready for uvicorn.

    Raises OSError (for example when the port is taken).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio sets TCP_NODELAY on accepted connections only when the listening socket
    # was created with IPPROTO_TCP. Without it, keep-alive responses wait about 40 ms for the
    # client's delayed ACK (measured on Linux with requests).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url_host(host: str) -> str:
    """Return the host part of the base URL; wildcard addresses become loopback."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"[{address}]" if address.version == 6 else str(address)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
