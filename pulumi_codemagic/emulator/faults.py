"""Decide which API requests get an injected fault instead of a normal response.

Faults are off by default. When enabled, each API request (never an admin request
under ``/_emulator/``) gets at most one fault, chosen in this order:

1. the next entry of `FaultSettings.script`, if any entries are left;
2. otherwise one uniform draw from a random generator seeded with
   `FaultSettings.seed`, compared with the cumulative rates.

The same settings and the same sequence of requests therefore give the same faults.
Concurrent requests take their draws in arrival order, which the emulator does not
control. Latency is added to every matching request, on top of any fault.

Fault kinds:

* ``error``: a 503 response before the request is handled.
* ``rate_limit``: a 429 response with both rate-limit header styles.
* ``drop``: the connection is closed before the request is handled, with no response.
* ``drop_after``: the request is handled (a build may be started), then the
  connection is closed instead of sending the response.
* ``ok``: no fault (useful inside a script).

Injected 503 and 429 responses carry an ``x-emulator-fault`` header naming the kind,
so a test can tell them apart from errors of the emulated API.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

FAULT_KINDS = ("error", "rate_limit", "drop", "drop_after", "ok")

_RATE_KEYS = {
    "errorRate": "error_rate",
    "rateLimitRate": "rate_limit_rate",
    "dropRate": "drop_rate",
    "dropAfterRate": "drop_after_rate",
}
_KNOWN_KEYS = frozenset(
    [*_RATE_KEYS, "latencySeconds", "retryAfterSeconds", "methods", "seed", "script"]
)


@dataclass(frozen=True)
class FaultSettings:
    """Fault rates and options; every rate is a fraction of matching API requests."""

    error_rate: float = 0.0
    """Fraction of requests that get a 503 response before they are handled."""
    rate_limit_rate: float = 0.0
    """Fraction of requests that get a 429 response before they are handled."""
    drop_rate: float = 0.0
    """Fraction of requests whose connection is closed before they are handled."""
    drop_after_rate: float = 0.0
    """Fraction of requests handled and then closed without a response."""
    latency_seconds: float = 0.0
    """Delay in seconds added before each matching request is handled."""
    retry_after_seconds: int = 1
    """Seconds until the rate-limit window resets, as sent in 429 headers."""
    methods: frozenset[str] | None = None
    """HTTP methods that faults apply to, upper case; None means all methods."""
    seed: int = 0
    """Seed of the random generator that draws the faults."""
    script: tuple[str, ...] = field(default=())
    """Fault kinds for the next requests, in order, used before any random draw."""

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.rate_limit_rate, self.drop_rate, self.drop_after_rate)
        for name, rate in zip(_RATE_KEYS, rates, strict=True):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"invalid fault setting {name}={rate!r}: expected 0 to 1")
        if sum(rates) > 1.0:
            raise ValueError(f"invalid fault settings: the rates add up to {sum(rates)}, above 1")
        if self.latency_seconds < 0:
            raise ValueError(f"invalid fault setting latencySeconds={self.latency_seconds!r}")
        if self.retry_after_seconds < 1:
            raise ValueError(
                f"invalid fault setting retryAfterSeconds={self.retry_after_seconds!r}: "
                "expected an integer of at least 1"
            )
        for kind in self.script:
            if kind not in FAULT_KINDS:
                expected = ", ".join(FAULT_KINDS)
                raise ValueError(
                    f"invalid fault kind {kind!r} in script: expected one of {expected}"
                )

    @property
    def enabled(self) -> bool:
        """Whether these settings can change any response."""
        rates = (self.error_rate, self.rate_limit_rate, self.drop_rate, self.drop_after_rate)
        return any(rates) or self.latency_seconds > 0 or bool(self.script)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> FaultSettings:
        """Build settings from camelCase keys, as used in the config file and admin API.

        Raises ValueError naming the first unknown key or invalid value.
        """
        unknown = sorted(set(data) - _KNOWN_KEYS)
        if unknown:
            raise ValueError(
                f"unknown fault setting {unknown[0]!r}: expected {', '.join(sorted(_KNOWN_KEYS))}"
            )
        values: dict[str, object] = {}
        for key, attribute in _RATE_KEYS.items():
            if key in data:
                values[attribute] = _number(data[key], key)
        if "latencySeconds" in data:
            values["latency_seconds"] = _number(data["latencySeconds"], "latencySeconds")
        if "retryAfterSeconds" in data:
            values["retry_after_seconds"] = _integer(data["retryAfterSeconds"], "retryAfterSeconds")
        if "seed" in data:
            values["seed"] = _integer(data["seed"], "seed")
        if data.get("methods") is not None:
            values["methods"] = frozenset(m.upper() for m in _strings(data["methods"], "methods"))
        if "script" in data:
            values["script"] = tuple(_strings(data["script"], "script"))
        return cls(**values)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        """Return the settings with the camelCase keys that `from_mapping` accepts."""
        return {
            "errorRate": self.error_rate,
            "rateLimitRate": self.rate_limit_rate,
            "dropRate": self.drop_rate,
            "dropAfterRate": self.drop_after_rate,
            "latencySeconds": self.latency_seconds,
            "retryAfterSeconds": self.retry_after_seconds,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "seed": self.seed,
            "script": list(self.script),
        }


@dataclass(frozen=True)
class FaultDecision:
    """Fault chosen for one request."""

    kind: str
    """One of FAULT_KINDS; ``ok`` means a normal response."""
    latency_seconds: float
    """Delay to add before handling the request."""


class FaultInjector:
    """Thread-safe source of fault decisions for the current settings."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._random = random.Random(self._settings.seed)
        self._script = list(self._settings.script)
        self._counts = dict.fromkeys(FAULT_KINDS, 0)

    @property
    def settings(self) -> FaultSettings:
        """Current settings, including script entries not yet used."""
        with self._lock:
            return replace(self._settings, script=tuple(self._script))

    def configure(self, settings: FaultSettings | None) -> None:
        """Replace the settings and restart the random sequence from their seed."""
        with self._lock:
            self._settings = settings or FaultSettings()
            self._random = random.Random(self._settings.seed)
            self._script = list(self._settings.script)

    def counts(self) -> dict[str, int]:
        """Return how many requests got each fault kind since the last reset."""
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        """Set every fault count back to zero."""
        with self._lock:
            self._counts = dict.fromkeys(FAULT_KINDS, 0)

    def decide(self, method: str) -> FaultDecision:
        """Choose the fault for one API request made with `method`."""
        with self._lock:
            settings = self._settings
            if settings.methods is not None and method.upper() not in settings.methods:
                return FaultDecision("ok", 0.0)

            kind = self._script.pop(0) if self._script else self._draw(settings)
            self._counts[kind] += 1
            return FaultDecision(kind, settings.latency_seconds)

    def _draw(self, settings: FaultSettings) -> str:
        if not (
            settings.error_rate
            or settings.rate_limit_rate
            or settings.drop_rate
            or settings.drop_after_rate
        ):
            return "ok"
        value = self._random.random()
        threshold = 0.0
        for kind, rate in (
            ("error", settings.error_rate),
            ("rate_limit", settings.rate_limit_rate),
            ("drop", settings.drop_rate),
            ("drop_after", settings.drop_after_rate),
        ):
            threshold += rate
            if value < threshold:
                return kind
        return "ok"


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"invalid fault setting {key}={value!r}: expected a number")
    return float(value)


def _integer(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"invalid fault setting {key}={value!r}: expected an integer")
    return value


def _strings(value: object, key: str) -> Iterable[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"invalid fault setting {key}={value!r}: expected a list of strings")
    return value
