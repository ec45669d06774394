from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from pulumi_codemagic.retries import (
    IDEMPOTENCY_LABEL_PREFIX,
    RetryPolicy,
    is_retryable_transport_error,
    new_idempotency_label,
    rate_limit_reset_seconds,
    request_never_sent,
)

NOW = 1_767_000_000.0


def _now() -> float:
    return NOW


# Backoff


@pytest.mark.parametrize(
    ("retry_number", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (30, 8.0)],
)
def test_backoff_ceiling_doubles_to_cap(retry_number: int, ceiling: float) -> None:
    policy = RetryPolicy()

    assert policy.backoff_seconds(retry_number, random=lambda: 1.0) == ceiling


def test_backoff_full_jitter_scales() -> None:
    policy = RetryPolicy(backoff_initial_seconds=2.0)

    assert policy.backoff_seconds(2, random=lambda: 0.25) == 1.0


def test_backoff_full_jitter_can_be_zero() -> None:
    assert RetryPolicy().backoff_seconds(3, random=lambda: 0.0) == 0.0


def test_policy_max_attempts() -> None:
    assert RetryPolicy(max_retries=4).max_attempts == 5


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": -1},
        {"backoff_initial_seconds": -0.1},
        {"backoff_max_seconds": -1},
        {"max_rate_limit_wait_seconds": -1},
    ],
    ids=["retries", "initial", "max", "rate-limit"],
)
def test_policy_rejects_negative(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be 0 or more"):
        RetryPolicy(**options)  # type: ignore[arg-type]


# Rate-limit headers


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after": "1.5"}, 1.5),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(NOW + 42, timezone.utc), usegmt=True
                )
            },
            42.0,
        ),
        ({"X-RateLimit-Reset": str(int(NOW) + 30)}, 30.0),
        ({"x-ratelimit-reset": str(int(NOW) - 30)}, 0.0),
        ({"ratelimit-reset": "7"}, 7.0),
        ({"RateLimit-Reset": "0"}, 0.0),
        ({"ratelimit-reset": "-3"}, 0.0),
        ({"Retry-After": "5", "ratelimit-reset": "50"}, 5.0),
        ({"X-RateLimit-Reset": str(int(NOW) + 9), "ratelimit-reset": "50"}, 9.0),
        ({"Retry-After": "soon", "ratelimit-reset": "8"}, 8.0),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00"}, None),
        ({}, None),
    ],
    ids=[
        "retry-after-seconds",
        "retry-after-fraction",
        "retry-after-http-date",
        "x-ratelimit-reset-epoch",
        "x-ratelimit-reset-past",
        "ratelimit-reset-delta",
        "ratelimit-reset-zero",
        "negative-delta",
        "retry-after-wins",
        "x-ratelimit-before-ratelimit",
        "unreadable-falls-through",
        "not-a-number",
        "date-without-zone",
        "none",
    ],
)
def test_rate_limit_reset_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert rate_limit_reset_seconds(headers, now=_now) == expected


def test_rate_limit_epoch_in_retry_after() -> None:
    # Any value above 1e9 is a UNIX time, whichever header carries it.
    assert rate_limit_reset_seconds({"Retry-After": str(int(NOW) + 3)}, now=_now) == 3.0


def test_rate_limit_wait_capped() -> None:
    policy = RetryPolicy(max_rate_limit_wait_seconds=60.0)

    wait = policy.rate_limit_wait_seconds(
        {"ratelimit-reset": "3600"}, retry_number=1, random=lambda: 0.5, now=_now
    )

    assert wait == 60.0


def test_rate_limit_wait_without_header_uses_backoff() -> None:
    wait = RetryPolicy().rate_limit_wait_seconds({}, retry_number=2, random=lambda: 0.5, now=_now)

    assert wait == 0.5


def test_rate_limit_case_insensitive_requests_headers() -> None:
    headers = requests.structures.CaseInsensitiveDict({"RATELIMIT-RESET": "4"})

    assert rate_limit_reset_seconds(headers, now=_now) == 4.0


# Idempotency labels


def test_idempotency_label_shape() -> None:
    label = new_idempotency_label()

    assert label.startswith(IDEMPOTENCY_LABEL_PREFIX)
    assert len(label) == len(IDEMPOTENCY_LABEL_PREFIX) + 32


def test_idempotency_label_unique() -> None:
    assert new_idempotency_label() != new_idempotency_label()


# Transport errors, built by hand


def _refused_connection_error() -> requests.ConnectionError:
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.ConnectionError(MaxRetryError(None, "/builds", reason=cause))  # type: ignore[arg-type]


def _dropped_connection_error() -> requests.ConnectionError:
    cause = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    return requests.ConnectionError(cause)


@pytest.mark.parametrize(
    ("error", "never_sent"),
    [
        (requests.exceptions.ConnectTimeout(), True),
        (_refused_connection_error(), True),
        (requests.ConnectionError(ConnectionRefusedError(111, "refused")), True),
        (requests.exceptions.ReadTimeout(), False),
        (_dropped_connection_error(), False),
        (requests.ConnectionError(), False),
        (requests.exceptions.SSLError(), False),
        (requests.exceptions.ChunkedEncodingError(), False),
        (ValueError("other"), False),
    ],
    ids=[
        "connect-timeout",
        "new-connection-error",
        "refused-errno",
        "read-timeout",
        "connection-reset",
        "bare-connection-error",
        "ssl",
        "chunked",
        "non-requests",
    ],
)
def test_request_never_sent(error: BaseException, never_sent: bool) -> None:
    assert request_never_sent(error) is never_sent


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (requests.exceptions.ConnectTimeout(), True),
        (requests.exceptions.ReadTimeout(), True),
        (_dropped_connection_error(), True),
        (requests.exceptions.ChunkedEncodingError(), True),
        (requests.exceptions.SSLError(), False),
        (requests.exceptions.InvalidURL(), False),
    ],
    ids=["connect-timeout", "read-timeout", "connection-reset", "chunked", "ssl", "invalid-url"],
)
def test_is_retryable_transport_error(error: BaseException, retryable: bool) -> None:
    assert is_retryable_transport_error(error) is retryable


# Transport errors from real loopback sockets: the classification must match what requests
# and urllib3 actually raise.


class _OneShotServer:
    """A loopback TCP server that reads one request, then closes ("drop") or stays silent
    ("stall")."""

    def __init__(self, behaviour: str) -> None:
        self._behaviour = behaviour
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            connection.recv(65536)
            if self._behaviour == "stall":
                self._release.wait(5)
            # "drop": close without a reply.

    def close(self) -> None:
        self._release.set()
        self._thread.join(5)
        self._listener.close()


@pytest.fixture
def dropping_server() -> Iterator[_OneShotServer]:
    server = _OneShotServer("drop")
    yield server
    server.close()


@pytest.fixture
def stalling_server() -> Iterator[_OneShotServer]:
    server = _OneShotServer("stall")
    yield server
    server.close()


def _post(port: int, read_timeout: float = 5.0) -> BaseException:
    try:
        requests.post(f"http://127.0.0.1:{port}/builds", json={}, timeout=(2.0, read_timeout))
    except requests.RequestException as exc:
        return exc
    raise AssertionError("the request unexpectedly succeeded")


def test_loopback_refused_never_sent() -> None:
    # Reserve a free port, then close it so that nothing listens there.
    with socket.create_server(("127.0.0.1", 0)) as reserved:
        port = reserved.getsockname()[1]

    error = _post(port)

    assert isinstance(error, requests.ConnectionError)
    assert request_never_sent(error)


def test_loopback_dropped_may_have_arrived(dropping_server: _OneShotServer) -> None:
    error = _post(dropping_server.port)

    assert isinstance(error, requests.ConnectionError)
    assert not request_never_sent(error)
    assert is_retryable_transport_error(error)


def test_loopback_read_timeout_may_have_arrived(stalling_server: _OneShotServer) -> None:
    error = _post(stalling_server.port, read_timeout=0.2)

    assert isinstance(error, requests.exceptions.ReadTimeout)
    assert not request_never_sent(error)
