"""Store the emulated apps and builds, guarded by one lock.

`EmulatorState` is the only owner of mutable emulator data: builds, outcome rules
added at run time, request statistics, the fault injector and the signing key of
public URLs. Every public method takes the lock, so the HTTP handlers (on the server
thread) and a test's direct calls through the handle (on the test thread) can mix.

Statuses are computed lazily: each read first brings the builds it touches up to
the clock (see `BuildProgress.refresh`), so there is no background ticker thread.
Artefact files are generated when a build first reaches ``finished`` or ``warning``.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .artefacts import ArtefactFile, make_artefact_files, sign_public_token, verify_public_token
from .clock import EmulatorClock, format_legacy_timestamp
from .config import AppConfig, EmulatorConfig, WorkflowConfig
from .faults import FaultInjector, FaultSettings
from .lifecycle import ARTEFACT_STATUSES, BuildProgress, Outcome, OutcomeRule, choose_outcome
from .payloads import BuildRecord, application_payload, build_payload, build_steps

PAGE_SIZE = 30
"""Builds per ``GET /builds`` page, as the legacy API returns."""


class UnknownAppError(LookupError):
    """The start request names an app the emulator does not have."""


class UnknownWorkflowError(LookupError):
    """The start request names a workflow the app's codemagic.yaml does not define."""


class UnknownBuildError(LookupError):
    """No build has this id."""


@dataclass(frozen=True)
class StartRequest:
    """A validated ``POST /builds`` body."""

    app_id: str
    workflow_id: str
    branch: str | None
    tag: str | None
    environment: dict[str, Any]
    labels: tuple[str, ...]
    instance_type: str | None
    body: dict[str, Any]
    """The body as received, kept for the admin listing."""


@dataclass(frozen=True)
class BuildFilters:
    """Filters of ``GET /builds``; None matches every build."""

    app_id: str | None = None
    workflow_id: str | None = None
    branch: str | None = None
    tag: str | None = None


class EmulatorState:
    """Apps, builds, outcome rules, statistics and faults of one emulator."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        phase_seconds: float | None,
        clock: EmulatorClock | None = None,
        faults: FaultSettings | None = None,
        seed: int | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._config = config
        self._apps: dict[str, AppConfig] = dict(config.apps)
        self.clock = clock or EmulatorClock()
        self.faults = FaultInjector(faults)
        self._initial_phase_seconds = _phase_seconds(phase_seconds)
        self._initial_faults = faults
        self._seed = config.seed if seed is None else seed
        self._reset_locked()

    # Settings ---------------------------------------------------------------

    @property
    def phase_seconds(self) -> float | None:
        """Seconds per in-progress status; None in manual mode."""
        with self._lock:
            return self._phase_seconds

    def set_phase_seconds(self, phase_seconds: float | None) -> None:
        """Switch the progression speed; builds first catch up with the old speed."""
        with self._lock:
            self._refresh_all()
            now = self.clock.now()
            for record in self._builds.values():
                record.progress.phase_entered_at = max(record.progress.phase_entered_at, now)
            self._phase_seconds = _phase_seconds(phase_seconds)

    def reset(self) -> None:
        """Drop builds, statistics and run-time rules; restore the configured settings."""
        with self._lock:
            self.clock.reset()
            self.faults.configure(self._initial_faults)
            self._reset_locked()

    def _reset_locked(self) -> None:
        self._phase_seconds = self._initial_phase_seconds
        self._builds: dict[str, BuildRecord] = {}
        self._artefacts: dict[str, tuple[str, int]] = {}
        self._runtime_outcomes: list[OutcomeRule] = []
        self._requests: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._start_count = 0
        self._sequence = 0
        self._random = random.Random(self._seed)
        self._signing_key = self._random.randbytes(32)
        self.faults.reset_counts()

    # Apps -------------------------------------------------------------------

    def application_payloads(self) -> list[dict[str, Any]]:
        """Render every app, in configuration order."""
        with self._lock:
            return [self._application_payload(app) for app in self._apps.values()]

    def application_payload(self, app_id: str) -> dict[str, Any] | None:
        """Render one app, or return None when the id is unknown."""
        with self._lock:
            app = self._apps.get(app_id)
            return self._application_payload(app) if app is not None else None

    def _application_payload(self, app: AppConfig) -> dict[str, Any]:
        builds = [record for record in self._builds.values() if record.app_id == app.app_id]
        return application_payload(app, builds[-1].build_id if builds else None)

    # Builds -----------------------------------------------------------------

    def start_build(self, request: StartRequest) -> str:
        """Create a queued build and return its id.

        Raises UnknownAppError or UnknownWorkflowError for ids the config lacks.
        """
        with self._lock:
            app = self._apps.get(request.app_id)
            if app is None:
                raise UnknownAppError(request.app_id)
            workflow = app.workflows.get(request.workflow_id)
            if workflow is None:
                raise UnknownWorkflowError(request.workflow_id)

            now = self.clock.now()
            build_id = self._new_build_id(now)
            outcome = self._outcome_for(app, workflow, request)
            labels = list(workflow.labels)
            labels += [label for label in request.labels if label not in labels]
            self._sequence += 1
            record = BuildRecord(
                build_id=build_id,
                sequence=self._sequence,
                app_id=app.app_id,
                workflow_id=workflow.key,
                index=1 + sum(1 for b in self._builds.values() if b.app_id == app.app_id),
                branch=request.branch,
                tag=request.tag,
                labels=tuple(labels),
                instance_type=request.instance_type or workflow.instance_type,
                environment=request.environment,
                start_request=request.body,
                progress=BuildProgress.start(outcome, now=now),
            )
            self._builds[build_id] = record
            self._start_count += 1
            return build_id

    def build_payloads(
        self, build_id: str, base_url: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Render a build and its app, or return None when the id is unknown."""
        with self._lock:
            record = self._builds.get(build_id)
            if record is None:
                return None
            self._refresh(record)
            app = self._apps[record.app_id]
            return self._application_payload(app), self._build_payload(record, base_url)

    def list_builds(
        self, filters: BuildFilters, *, skip: int, base_url: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """Return one page of matching builds, newest first, with their apps.

        The last item is True when more builds follow the page.
        """
        with self._lock:
            matching = [
                record
                for record in sorted(self._builds.values(), key=lambda r: -r.sequence)
                if _matches(record, filters)
            ]
            page = matching[skip : skip + PAGE_SIZE]
            app_ids = list(dict.fromkeys(record.app_id for record in page))
            applications = [self._application_payload(self._apps[app_id]) for app_id in app_ids]
            builds = []
            for record in page:
                self._refresh(record)
                builds.append(self._build_payload(record, base_url))
            return applications, builds, skip + PAGE_SIZE < len(matching)

    def cancel_build(self, build_id: str) -> bool:
        """Cancel a build; return False when it was already terminal.

        Raises UnknownBuildError for an unknown id.
        """
        with self._lock:
            record = self._record(build_id)
            return record.progress.cancel(self.clock.now())

    def step_log(self, build_id: str, step_id: str) -> str | None:
        """Return the plain-text log of one build step, or None when unknown."""
        with self._lock:
            record = self._builds.get(build_id)
            if record is None:
                return None
            self._refresh(record)
            workflow = self._workflow(record)
            for step in build_steps(record, workflow):
                if step.action_id == step_id:
                    return (
                        f"== {step.name} ==\n"
                        "This step ran in the Codemagic emulator; no command was executed.\n"
                    )
            return None

    # Artefacts --------------------------------------------------------------

    def find_artefact(self, secure_path: str) -> ArtefactFile | None:
        """Return a downloadable artefact by its secure path, or None."""
        with self._lock:
            location = self._artefacts.get(secure_path)
            if location is None:
                return None
            build_id, position = location
            record = self._builds[build_id]
            self._refresh(record)
            if record.files is None or record.progress.status not in ARTEFACT_STATUSES:
                return None
            return record.files[position]

    def sign_public_url(self, secure_path: str, expires_at: int) -> str:
        """Return the token of a public URL for an artefact, valid until `expires_at`."""
        with self._lock:
            return sign_public_token(secure_path, expires_at, self._signing_key)

    def check_public_token(self, token: str) -> tuple[ArtefactFile | None, bool]:
        """Return the artefact of a public URL token and whether the token has expired.

        The artefact is None when the signature is invalid or the file is unknown.
        """
        with self._lock:
            verified = verify_public_token(token, self._signing_key)
            if verified is None:
                return None, False
            secure_path, expires_at = verified
            return self.find_artefact(secure_path), self.clock.now() >= expires_at

    # Admin ------------------------------------------------------------------

    def admin_builds(self, base_url: str) -> list[dict[str, Any]]:
        """Return every build with its start request and planned outcome, oldest first."""
        with self._lock:
            return [self._admin_payload(record, base_url) for record in self._builds.values()]

    def admin_build(self, build_id: str, base_url: str) -> dict[str, Any]:
        """Return one build's admin detail; raises UnknownBuildError."""
        with self._lock:
            return self._admin_payload(self._record(build_id), base_url)

    def force_status(self, build_id: str, status: str, message: str | None = None) -> None:
        """Set a build's status at once (see `BuildProgress.force`)."""
        with self._lock:
            record = self._record(build_id)
            self._refresh(record)
            record.progress.force(status, message, self.clock.now())
            self._sync_files(record)

    def advance(self, build_id: str | None = None, *, steps: int = 1) -> list[str]:
        """Move one build, or every unfinished build, `steps` phases forward.

        Returns the ids of the builds that moved. Raises UnknownBuildError.
        """
        if steps < 1:
            raise ValueError(f"invalid steps={steps!r}: expected a positive integer")
        with self._lock:
            if build_id is not None:
                records: Iterable[BuildRecord] = [self._record(build_id)]
            else:
                records = list(self._builds.values())
            moved: list[str] = []
            now = self.clock.now()
            for record in records:
                self._refresh(record)
                if record.progress.is_terminal:
                    continue
                record.progress.advance(now, steps)
                self._sync_files(record)
                moved.append(record.build_id)
            return moved

    def add_outcome(self, rule: OutcomeRule) -> None:
        """Add a run-time outcome rule; it applies to builds started afterwards."""
        with self._lock:
            self._runtime_outcomes.append(rule)

    def clear_outcomes(self) -> None:
        """Remove the run-time outcome rules; configured rules stay."""
        with self._lock:
            self._runtime_outcomes.clear()

    def outcome_rules(self) -> list[OutcomeRule]:
        """Return the configured rules followed by the run-time ones."""
        with self._lock:
            return [*self._config.outcomes, *self._runtime_outcomes]

    @property
    def start_count(self) -> int:
        """Number of builds started through ``POST /builds`` since the last reset."""
        with self._lock:
            return self._start_count

    def record_response(self, route: str, status: str) -> None:
        """Count one API request under its route and its status code (or ``dropped``)."""
        with self._lock:
            self._requests[route] += 1
            self._responses[status] += 1

    def stats(self) -> dict[str, Any]:
        """Return request, response, build and fault counters."""
        with self._lock:
            return {
                "buildsStarted": self._start_count,
                "requests": dict(self._requests),
                "responses": dict(self._responses),
                "faults": self.faults.counts(),
                "now": format_legacy_timestamp(self.clock.now()),
                "phaseSeconds": self._phase_seconds,
            }

    # Internals --------------------------------------------------------------

    def _record(self, build_id: str) -> BuildRecord:
        record = self._builds.get(build_id)
        if record is None:
            raise UnknownBuildError(build_id)
        return record

    def _workflow(self, record: BuildRecord) -> WorkflowConfig:
        return self._apps[record.app_id].workflows[record.workflow_id]

    def _refresh(self, record: BuildRecord) -> None:
        record.progress.refresh(self.clock.now(), self._phase_seconds)
        self._sync_files(record)

    def _refresh_all(self) -> None:
        for record in self._builds.values():
            self._refresh(record)

    def _sync_files(self, record: BuildRecord) -> None:
        if record.files is not None or record.progress.status not in ARTEFACT_STATUSES:
            return
        app = self._apps[record.app_id]
        record.files = make_artefact_files(
            record.build_id, record.index, app, self._workflow(record).artefacts
        )
        for position, file in enumerate(record.files):
            self._artefacts[file.secure_path] = (record.build_id, position)

    def _build_payload(self, record: BuildRecord, base_url: str) -> dict[str, Any]:
        app = self._apps[record.app_id]
        return build_payload(record, app, self._workflow(record), base_url)

    def _admin_payload(self, record: BuildRecord, base_url: str) -> dict[str, Any]:
        self._refresh(record)
        progress = record.progress
        return {
            "buildId": record.build_id,
            "appId": record.app_id,
            "workflowId": record.workflow_id,
            "status": progress.status,
            "plan": [*progress.plan, progress.outcome.status],
            "plannedOutcome": {
                "status": progress.outcome.status,
                "message": progress.outcome.message,
            },
            "paused": progress.paused,
            "startRequest": record.start_request,
            "build": self._build_payload(record, base_url),
        }

    def _outcome_for(
        self, app: AppConfig, workflow: WorkflowConfig, request: StartRequest
    ) -> Outcome:
        rule = choose_outcome(
            [*self._config.outcomes, *self._runtime_outcomes],
            app_id=app.app_id,
            workflow_id=workflow.key,
            branch=request.branch,
            tag=request.tag,
        )
        if rule is None:
            return Outcome("finished")
        return Outcome(rule.status, rule.message or _default_message(rule.status, workflow))

    def _new_build_id(self, now: float) -> str:
        """Return a MongoDB-style ObjectId: creation time, seeded random part, counter."""
        while True:
            seconds = int(now).to_bytes(4, "big")
            rest = self._random.randbytes(8)
            build_id = (seconds + rest).hex()
            if build_id not in self._builds:
                return build_id


def _default_message(status: str, workflow: WorkflowConfig) -> str | None:
    if status == "failed":
        if not workflow.scripts:
            return "Build failed"
        # Steps 1 and 2 set up the machine and fetch the sources; scripts follow.
        step_number = 2 + len(workflow.scripts)
        return f"Step {step_number} script `{workflow.scripts[-1]}` exited with status code 1"
    if status == "timeout":
        # NOTE: the wording of Codemagic's timeout message is a guess.
        return (
            f"Build exceeded the maximum build duration of "
            f"{workflow.max_build_duration_minutes} minutes"
        )
    return None


def _matches(record: BuildRecord, filters: BuildFilters) -> bool:
    pairs = (
        (filters.app_id, record.app_id),
        (filters.workflow_id, record.workflow_id),
        (filters.branch, record.branch),
        (filters.tag, record.tag),
    )
    return all(wanted is None or wanted == actual for wanted, actual in pairs)


def _phase_seconds(value: float | None) -> float | None:
    if value is None or value == 0:
        return None
    if value < 0:
        raise ValueError(f"invalid phase_seconds={value!r}: expected a positive number or None")
    return float(value)
