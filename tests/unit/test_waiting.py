from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import responses
from client_fakes import API, APP_ID, BUILD_ID, build_envelope, build_json, make_client
from responses.registries import OrderedRegistry

from pulumi_codemagic.errors import (
    BuildFailedError,
    BuildWaitTimeoutError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TokenRejectedError,
)
from pulumi_codemagic.models import Build
from pulumi_codemagic.waiting import wait_for_build


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` is called."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedReader:
    """Returns the given builds (or raises the given errors) in turn, repeating the last."""

    def __init__(self, *steps: Build | Exception) -> None:
        self._steps = list(steps)
        self.reads = 0

    def get_build(self, build_id: str) -> Build:
        step = self._steps[min(self.reads, len(self._steps) - 1)]
        self.reads += 1
        if isinstance(step, Exception):
            raise step
        return step


def _build(status: str, **fields: object) -> Build:
    return Build.model_validate(build_json(status=status, **fields))


def _api_error(error_class: type[Exception], status: int | None) -> Exception:
    return error_class("failure", method="GET", path=f"/builds/{BUILD_ID}", status=status)


def _wait(reader: ScriptedReader, clock: FakeClock, **options: object) -> Build:
    arguments: dict[str, object] = {"timeout_seconds": 600.0, "poll_interval_seconds": 30.0}
    arguments.update(options)
    return wait_for_build(
        reader,
        BUILD_ID,
        clock=clock,
        sleep=clock.sleep,
        **arguments,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Outcomes


def test_wait_returns_finished_build(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("queued"), _build("building"), _build("finished"))

    assert _wait(reader, clock).status == "finished"
    assert reader.reads == 3


def test_wait_warning_is_success_by_default(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"), _build("warning"))

    assert _wait(reader, clock).status == "warning"


def test_wait_warning_failure_when_excluded(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("warning"))

    with pytest.raises(BuildFailedError, match="Add 'warning' to the success statuses"):
        _wait(reader, clock, success_statuses={"finished"})


def test_wait_canceled_raises(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"), _build("canceled"))

    with pytest.raises(BuildFailedError) as caught:
        _wait(reader, clock)

    assert caught.value.status == "canceled"
    assert str(caught.value) == (
        f"Build {BUILD_ID} of app {APP_ID} ended with status 'canceled'. See "
        f"https://codemagic.io/app/{APP_ID}/build/{BUILD_ID}. It was canceled in Codemagic or "
        "through the API."
    )


def test_wait_failed_names_message(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("failed", message="Failed to clone repository"))

    with pytest.raises(BuildFailedError, match=r"'failed': Failed to clone repository\. See"):
        _wait(reader, clock)


def test_wait_skipped_ends_at_once(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("skipped"))

    with pytest.raises(BuildFailedError) as caught:
        _wait(reader, clock)

    assert caught.value.status == "skipped"
    assert reader.reads == 1
    assert clock.sleeps == []


def test_wait_timeout_status_fails(clock: FakeClock) -> None:
    with pytest.raises(BuildFailedError, match="max_build_duration"):
        _wait(ScriptedReader(_build("timeout")), clock)


def test_wait_skipped_accepted_when_listed(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("skipped"))

    assert _wait(reader, clock, success_statuses={"finished", "skipped"}).status == "skipped"


def test_wait_unknown_status_keeps_polling(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("unknown-status-while-waiting"), _build("finished"))

    assert _wait(reader, clock).status == "finished"
    assert reader.reads == 2


def test_wait_finishing_keeps_polling(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("publishing"), _build("finishing"), _build("finished"))

    _wait(reader, clock)

    assert reader.reads == 3


# Deadline


def test_wait_deadline_raises(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"))

    with pytest.raises(BuildWaitTimeoutError) as caught:
        _wait(reader, clock, timeout_seconds=100.0)

    assert caught.value.build_id == BUILD_ID
    assert caught.value.last_build is not None
    assert caught.value.last_build.status == "building"
    assert caught.value.timeout_seconds == 100.0


def test_wait_never_sleeps_past_deadline(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"))
    start = clock.now

    with pytest.raises(BuildWaitTimeoutError):
        _wait(reader, clock, timeout_seconds=100.0)

    assert clock.now - start == 100.0
    assert sum(clock.sleeps) == 100.0


def test_wait_reads_once_more_at_deadline(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"), _build("building"), _build("finished"))

    # Sleeps: 2 s, then the remaining 1 s, then the final read at the deadline succeeds.
    assert _wait(reader, clock, timeout_seconds=3.0).status == "finished"
    assert clock.sleeps == [2.0, 1.0]


def test_wait_zero_timeout_reads_once(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"))

    with pytest.raises(BuildWaitTimeoutError):
        _wait(reader, clock, timeout_seconds=0)

    assert reader.reads == 1


# Adaptive polling


def test_wait_interval_grows_to_maximum(clock: FakeClock) -> None:
    reader = ScriptedReader(*([_build("building")] * 8), _build("finished"))

    _wait(reader, clock, poll_interval_seconds=10.0)

    assert clock.sleeps == [2.0, 3.0, 4.5, 6.75, 10.0, 10.0, 10.0, 10.0]


def test_wait_small_poll_interval_from_start(clock: FakeClock) -> None:
    reader = ScriptedReader(_build("building"), _build("building"), _build("finished"))

    _wait(reader, clock, poll_interval_seconds=0.5)

    assert clock.sleeps == [0.5, 0.5]


# Status change callback


def test_wait_reports_each_status_once(clock: FakeClock) -> None:
    reader = ScriptedReader(
        _build("queued"),
        _build("queued"),
        _build("building"),
        _build("building"),
        _build("finished"),
    )
    seen: list[str] = []

    _wait(reader, clock, on_status_change=lambda build: seen.append(build.status))

    assert seen == ["queued", "building", "finished"]


def test_wait_reports_first_and_terminal(clock: FakeClock) -> None:
    seen: list[str] = []

    with pytest.raises(BuildFailedError):
        _wait(
            ScriptedReader(_build("failed")),
            clock,
            on_status_change=lambda build: seen.append(build.status),
        )

    assert seen == ["failed"]


def test_wait_callback_error_propagates(clock: FakeClock) -> None:
    def explode(build: Build) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        _wait(ScriptedReader(_build("queued")), clock, on_status_change=explode)


# API errors during the wait


@pytest.mark.parametrize(
    "error",
    [
        _api_error(RateLimitedError, 429),
        _api_error(ServerError, 503),
        _api_error(RequestTimeoutError, None),
    ],
    ids=["rate-limited", "server-error", "timeout"],
)
def test_wait_survives_transient_errors(
    clock: FakeClock, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pulumi_codemagic.waiting")
    reader = ScriptedReader(_build("building"), error, _build("finished"))

    assert _wait(reader, clock).status == "finished"
    assert f"Reading build {BUILD_ID} failed; polling goes on: failure" in caplog.messages


def test_wait_transient_errors_until_deadline(clock: FakeClock) -> None:
    reader = ScriptedReader(_api_error(ServerError, 502))

    with pytest.raises(BuildWaitTimeoutError, match="its status could not be read"):
        _wait(reader, clock, timeout_seconds=20.0)


@pytest.mark.parametrize(
    "error",
    [_api_error(TokenRejectedError, 401), _api_error(NotFoundError, 404)],
    ids=["token-rejected", "not-found"],
)
def test_wait_fatal_errors_propagate(clock: FakeClock, error: Exception) -> None:
    reader = ScriptedReader(_build("building"), error)

    with pytest.raises(type(error)):
        _wait(reader, clock)

    assert reader.reads == 2


# Arguments


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_seconds": -1}, "timeout_seconds must be 0 or more"),
        ({"poll_interval_seconds": 0}, "poll_interval_seconds must be greater than 0"),
        ({"success_statuses": {"building"}}, "invalid: building"),
    ],
    ids=["negative-timeout", "zero-interval", "running-success-status"],
)
def test_wait_invalid_arguments(clock: FakeClock, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _wait(ScriptedReader(_build("building")), clock, **options)


# With the real client and ordered HTTP replies


@pytest.fixture
def ordered() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def test_wait_over_http_sequence(ordered: responses.RequestsMock, clock: FakeClock) -> None:
    for status in ("queued", "preparing", "building", "publishing", "finished"):
        ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json(status=status)))
    seen: list[str] = []

    build = wait_for_build(
        make_client(),
        BUILD_ID,
        timeout_seconds=600,
        on_status_change=lambda b: seen.append(b.status),
        clock=clock,
        sleep=clock.sleep,
    )

    assert build.status == "finished"
    assert seen == ["queued", "preparing", "building", "publishing", "finished"]
    assert clock.sleeps == [2.0, 3.0, 4.5, 6.75]


def test_wait_over_http_survives_503s(ordered: responses.RequestsMock, clock: FakeClock) -> None:
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json(status="building")))
    for _ in range(2):
        ordered.get(f"{API}/builds/{BUILD_ID}", status=503)
    ordered.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json(status="canceled")))

    with pytest.raises(BuildFailedError, match="'canceled'"):
        wait_for_build(
            make_client(max_retries=1),
            BUILD_ID,
            timeout_seconds=600,
            clock=clock,
            sleep=clock.sleep,
        )
