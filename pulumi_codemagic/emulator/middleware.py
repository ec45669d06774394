"""Log every request, count API requests and inject faults, as one ASGI middleware.

Each request gets one INFO line: method, path, status (or ``dropped``), duration and
the injected fault, if any. The line never contains headers, so it never shows the
API token. The token of a public artefact URL (``/artifacts/.<token>``) and query
values other than the build filters are replaced by ``<redacted>``.

Admin requests under ``/_emulator/`` are logged but neither counted nor faulted.

Dropping a connection needs the transport, which ASGI does not expose. The
emulator's server (see `server`) puts a callable that closes the connection into
each request's ``scope["state"]`` under `CLOSE_CONNECTION_KEY`. Under any other
ASGI server that key is missing, so a drop raises RuntimeError and the server
returns 500 instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.routing import BaseRoute, Match

from .state import EmulatorState

logger = logging.getLogger(__name__)

CLOSE_CONNECTION_KEY = "pulumi_codemagic.emulator.close_connection"
RATE_LIMIT_PER_HOUR = 5000
_LOGGED_QUERY_KEYS = frozenset({"appId", "workflowId", "branch", "tag", "skip"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class EmulatorMiddleware:
    """Wrap the emulator app with request logging, statistics and fault injection."""

    def __init__(
        self,
        app: ASGIApp,
        state: EmulatorState,
        routes: list[BaseRoute],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._app = app
        self.state = state
        self._routes = routes
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        path: str = scope["path"]
        is_admin = path == "/_emulator" or path.startswith("/_emulator/")
        record = _RequestRecord(self, scope, counted=not is_admin)

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = str(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Record before the last chunk leaves, so that a client which has
                # the whole response also finds it in the statistics and the log.
                record.finish()
            await send(message)

        try:
            if is_admin:
                await self._app(scope, receive, send_and_record)
            else:
                await self._handle_api(scope, receive, send_and_record, record)
        finally:
            record.finish()

    async def _handle_api(
        self, scope: Scope, receive: Receive, send: Send, record: _RequestRecord
    ) -> None:
        decision = self.state.faults.decide(scope["method"])
        record.fault = decision.kind
        if decision.latency_seconds > 0:
            await self._sleep(decision.latency_seconds)

        if decision.kind == "error":
            await _send_json(
                send,
                503,
                {"error": "Service Unavailable", "message": "Injected by the Codemagic emulator."},
                [(b"x-emulator-fault", b"error"), (b"retry-after", b"1")],
            )
        elif decision.kind == "rate_limit":
            retry_after = self.state.faults.settings.retry_after_seconds
            await _send_json(
                send,
                429,
                {"error": "Too Many Requests", "message": "Rate limit exceeded."},
                _rate_limit_headers(retry_after),
            )
        elif decision.kind == "drop":
            record.finish()
            await _close_connection(scope)
        elif decision.kind == "drop_after":
            await self._app(scope, receive, _discard)
            record.finish()
            await _close_connection(scope)
        else:
            await self._app(scope, receive, send)

    def route_key(self, scope: Scope) -> str:
        """Return ``METHOD /route/{template}`` for statistics, or the raw path if unrouted."""
        partial: str | None = None
        for route in self._routes:
            match, _ = route.matches(scope)
            template = getattr(route, "path", None)
            if match == Match.FULL and template:
                return f"{scope['method']} {template}"
            if match == Match.PARTIAL and template and partial is None:
                partial = template
        return f"{scope['method']} {partial or scope['path']}"


class _RequestRecord:
    """Statistics and the log line of one request, written once by `finish`."""

    def __init__(self, middleware: EmulatorMiddleware, scope: Scope, *, counted: bool) -> None:
        self._middleware = middleware
        self._scope = scope
        self._counted = counted
        self._started = time.perf_counter()
        self._finished = False
        self.status = "dropped"
        self.fault = "ok"

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        duration_ms = (time.perf_counter() - self._started) * 1000
        if self._counted:
            route = self._middleware.route_key(self._scope)
            self._middleware.state.record_response(route, self.status)
        logger.info(
            "%s %s %s %.1f ms%s",
            self._scope["method"],
            loggable_target(self._scope),
            self.status,
            duration_ms,
            f" fault={self.fault}" if self.fault != "ok" else "",
        )


def loggable_target(scope: Scope) -> str:
    """Return the request path and query with secret-bearing parts redacted."""
    path: str = scope["path"]
    if path.startswith("/artifacts/."):
        path = "/artifacts/.<redacted>"
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return path
    pairs = [
        f"{quote(key)}={quote(value) if key in _LOGGED_QUERY_KEYS else '<redacted>'}"
        for key, value in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{path}?{'&'.join(pairs)}"


def _rate_limit_headers(retry_after_seconds: int) -> list[tuple[bytes, bytes]]:
    # Both header styles: legacy X-RateLimit-* with the reset as UNIX seconds,
    # and the v3 ratelimit-* with the reset as seconds from now.
    reset_epoch = math.ceil(time.time()) + retry_after_seconds
    return [
        (b"x-emulator-fault", b"rate_limit"),
        (b"x-ratelimit-limit", str(RATE_LIMIT_PER_HOUR).encode()),
        (b"x-ratelimit-remaining", b"0"),
        (b"x-ratelimit-reset", str(reset_epoch).encode()),
        (b"ratelimit-limit", str(RATE_LIMIT_PER_HOUR).encode()),
        (b"ratelimit-remaining", b"0"),
        (b"ratelimit-reset", str(retry_after_seconds).encode()),
    ]


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _discard(message: Message) -> None:
    return None


async def _close_connection(scope: Scope) -> None:
    close = (scope.get("state") or {}).get(CLOSE_CONNECTION_KEY)
    if close is None:
        raise RuntimeError(
            "cannot drop the connection: the app is not running under the emulator's server"
        )
    close()
    # Let the event loop run connection_lost. uvicorn then marks the client as gone
    # and does not send a 500 response on the closed transport.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
