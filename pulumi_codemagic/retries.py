"""When and how long the client waits before repeating a request.

Policy, in short:

* Reads (GET), cancel and public-URL creation are safe to repeat. They are retried after
  connection errors, timeouts and the statuses 429, 502, 503 and 504.
* ``POST /builds`` is not safe to repeat blindly, because a repeat can start a second build.
  The client retries it only when the request provably never reached the server (connect
  timeout, refused connection, failed DNS lookup) or got a 429 reply. After a read timeout, a
  dropped connection or a 500, 502, 503 or 504 reply, it first looks for the build by the
  start's unique label; see ``CodemagicClient.start_build``. Other 4xx replies are final.
* Waits grow exponentially with "full jitter": a random time between zero and
  ``min(backoff_max_seconds, backoff_initial_seconds * 2 ** (retry_number - 1))``, which keeps
  many clients from retrying in step.
* A 429 reply's own wait (``Retry-After``, ``X-RateLimit-Reset`` or ``ratelimit-reset``) is
  honoured, capped at ``max_rate_limit_wait_seconds`` (60 s by default).
"""

from __future__ import annotations

import email.utils
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError

__all__ = [
    "EPOCH_THRESHOLD_SECONDS",
    "IDEMPOTENCY_LABEL_PREFIX",
    "RETRYABLE_STATUSES",
    "UNCERTAIN_START_STATUSES",
    "RetryPolicy",
    "is_retryable_transport_error",
    "new_idempotency_label",
    "rate_limit_reset_seconds",
    "request_never_sent",
]

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})
"""Statuses after which a request that is safe to repeat is retried."""

UNCERTAIN_START_STATUSES: frozenset[int] = frozenset({500, 502, 503, 504})
"""Statuses of ``POST /builds`` after which a build may or may not have been created."""

EPOCH_THRESHOLD_SECONDS = 1e9
"""A rate-limit reset value above this is a UNIX time; below it, seconds from now."""

IDEMPOTENCY_LABEL_PREFIX = "pulumi-codemagic-start-"
"""Prefix of the unique label that every build start carries."""


def new_idempotency_label() -> str:
    """Return a fresh start label, ``pulumi-codemagic-start-`` followed by 32 hex digits."""
    return f"{IDEMPOTENCY_LABEL_PREFIX}{uuid.uuid4().hex}"


@dataclass(frozen=True)
class RetryPolicy:
    """Limits and timing of retries.

    Attributes:
        max_retries: Repeats after the first attempt (so at most ``max_retries + 1`` requests).
            Default 4.
        backoff_initial_seconds: Ceiling of the first random wait, in seconds. Default 0.5.
        backoff_max_seconds: Largest ceiling of a random wait, in seconds. Default 8.
        max_rate_limit_wait_seconds: Maximum wait honoured from a 429 reply's headers, in
            seconds. Default 60. A longer requested wait is cut to this.
    """

    max_retries: int = 4
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    max_rate_limit_wait_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        for name in ("backoff_initial_seconds", "backoff_max_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.max_rate_limit_wait_seconds < 0:
            raise ValueError(
                "max_rate_limit_wait_seconds must be 0 or more, "
                f"got {self.max_rate_limit_wait_seconds}"
            )

    @property
    def max_attempts(self) -> int:
        """Largest number of requests for one call, the first attempt included."""
        return self.max_retries + 1

    def backoff_seconds(self, retry_number: int, *, random: Callable[[], float]) -> float:
        """Return a random wait before retry ``retry_number`` (1 for the first retry).

        ``random`` returns a float in [0, 1), such as :func:`random.random`.
        """
        exponent = max(retry_number - 1, 0)
        ceiling = min(self.backoff_max_seconds, self.backoff_initial_seconds * 2.0**exponent)
        return random() * ceiling

    def rate_limit_wait_seconds(
        self,
        headers: Mapping[str, str],
        *,
        retry_number: int,
        random: Callable[[], float],
        now: Callable[[], float],
    ) -> float:
        """Return the wait after a 429 reply, in seconds.

        Uses the reply's own wait when it sent one, capped at ``max_rate_limit_wait_seconds``;
        otherwise the random backoff for ``retry_number``. ``now`` returns the current UNIX
        time in seconds, such as :func:`time.time`.
        """
        requested = rate_limit_reset_seconds(headers, now=now)
        if requested is None:
            return self.backoff_seconds(retry_number, random=random)
        return min(requested, self.max_rate_limit_wait_seconds)


def rate_limit_reset_seconds(
    headers: Mapping[str, str], *, now: Callable[[], float]
) -> float | None:
    """Read how long a 429 reply requests the client to wait, in seconds from now.

    Headers are read in this order, the first usable one wins:

    * ``Retry-After``: seconds, or an HTTP date;
    * ``X-RateLimit-Reset``: the legacy API's reset time, in UNIX seconds;
    * ``ratelimit-reset``: the v3 API's reset, in seconds from now.

    Because servers mix the two conventions, any number above 1e9 is read as a UNIX time and
    any smaller number as seconds from now. A time in the past gives 0. Returns ``None`` when
    no header is usable. Header names are matched case-insensitively.
    """
    lowered = {name.lower(): value for name, value in headers.items()}

    for name in ("retry-after", "x-ratelimit-reset", "ratelimit-reset"):
        raw = lowered.get(name)
        if raw is None:
            continue
        seconds = _parse_wait(raw.strip(), now=now)
        if seconds is None:
            logger.debug("Ignoring the unreadable %s header value %r", name, raw)
            continue
        return seconds
    return None


def _parse_wait(value: str, *, now: Callable[[], float]) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = None

    if number is not None:
        if number != number or number in (float("inf"), float("-inf")):
            return None
        if number > EPOCH_THRESHOLD_SECONDS:
            return max(number - now(), 0.0)
        return max(number, 0.0)

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(moment.timestamp() - now(), 0.0)


def is_retryable_transport_error(error: BaseException) -> bool:
    """Tell whether a failure without a response is worth repeating for a safe request.

    True for connection errors, timeouts and a body cut off mid-transfer. False for TLS
    errors and invalid requests, which a repeat would not fix.
    """
    if isinstance(error, requests.exceptions.SSLError):
        return False
    return isinstance(
        error,
        requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError,
    )


def request_never_sent(error: BaseException) -> bool:
    """Tell whether a failed request provably never reached the server.

    True for a connect timeout, and for a connection error caused by a refused connection or
    a failed DNS lookup (urllib3's ``NewConnectionError``). Anything else, such as a read
    timeout or a connection dropped mid-request, leaves open whether the server acted on it.
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    if isinstance(error, requests.exceptions.SSLError):
        return False
    return any(
        isinstance(cause, NewConnectionError | ConnectionRefusedError) for cause in _causes(error)
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and every exception it wraps, through arguments, ``reason`` and chains."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current

        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        if current.__context__ is not None:
            pending.append(current.__context__)
