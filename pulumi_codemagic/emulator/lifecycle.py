"""Move emulated builds through Codemagic statuses and choose how each build ends.

A build follows a plan: a tuple of in-progress statuses chosen from its outcome, then
the outcome status itself. The plans are:

* ``finished``, ``warning``: queued, preparing, fetching, building, testing,
  publishing, finishing.
* ``failed``, ``timeout``: queued, preparing, fetching, building, finishing.
* ``skipped``: queued, preparing, fetching (a false ``when`` condition ends the
  build right after the clone).

Progression is computed lazily: the state calls `refresh` whenever it reads a build,
and `refresh` replays every phase boundary that the clock has passed since the last
read. Timestamps are therefore those of the boundaries, not of the reads. With
``phase_seconds`` set to None (manual mode) a build moves only through `advance`,
`force_status` or `cancel`, so a test can hold it in any phase for as long as it needs.

The outcome is chosen once, when the build starts, from `OutcomeRule` values: the
matching rule with the most conditions wins, and among equally specific rules the
one added last wins.

NOTE: the order of in-progress statuses, and which of them a failed or skipped build
passes through, are guesses from the status list of the Codemagic docs. The real
service may skip or reorder phases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

IN_PROGRESS_STATUSES = (
    "queued",
    "preparing",
    "fetching",
    "building",
    "testing",
    "publishing",
    "finishing",
)
TERMINAL_STATUSES = frozenset({"finished", "warning", "failed", "canceled", "timeout", "skipped"})
OUTCOME_STATUSES = frozenset({"finished", "warning", "failed", "timeout", "skipped"})
ARTEFACT_STATUSES = frozenset({"finished", "warning"})
"""Terminal statuses whose builds list artefacts and allow their download."""

_PLANS: Mapping[str, tuple[str, ...]] = {
    "finished": IN_PROGRESS_STATUSES,
    "warning": IN_PROGRESS_STATUSES,
    "failed": ("queued", "preparing", "fetching", "building", "finishing"),
    "timeout": ("queued", "preparing", "fetching", "building", "finishing"),
    "skipped": ("queued", "preparing", "fetching"),
}

_RULE_KEYS = {"appId": "app_id", "workflowId": "workflow_id", "branch": "branch", "tag": "tag"}


def plan_for(outcome_status: str) -> tuple[str, ...]:
    """Return the in-progress statuses a build with this outcome passes through."""
    return _PLANS[outcome_status]


@dataclass(frozen=True)
class Outcome:
    """Final status of a build and its failure message."""

    status: str
    message: str | None = None


@dataclass(frozen=True)
class OutcomeRule:
    """Outcome for the builds that match every condition given (None matches anything)."""

    status: str
    """Final status: finished, warning, failed, timeout or skipped."""
    message: str | None = None
    """Build message; None gives a default for failed and timeout builds."""
    app_id: str | None = None
    workflow_id: str | None = None
    """Workflow key as in codemagic.yaml."""
    branch: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.status not in OUTCOME_STATUSES:
            raise ValueError(
                f"invalid outcome status {self.status!r}: expected one of "
                f"{', '.join(sorted(OUTCOME_STATUSES))}"
            )

    @property
    def specificity(self) -> int:
        """Number of conditions the rule sets."""
        conditions = (self.app_id, self.workflow_id, self.branch, self.tag)
        return sum(value is not None for value in conditions)

    def matches(
        self, *, app_id: str, workflow_id: str, branch: str | None, tag: str | None
    ) -> bool:
        """Return whether a build with these attributes meets every condition."""
        pairs = (
            (self.app_id, app_id),
            (self.workflow_id, workflow_id),
            (self.branch, branch),
            (self.tag, tag),
        )
        return all(wanted is None or wanted == actual for wanted, actual in pairs)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> OutcomeRule:
        """Build a rule from camelCase keys (status, message, appId, workflowId, branch, tag).

        Raises ValueError naming the first unknown key or invalid value.
        """
        known = {"status", "message", *_RULE_KEYS}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown outcome rule key {unknown[0]!r}: expected {', '.join(sorted(known))}"
            )
        values: dict[str, str | None] = {}
        for key in ("status", "message", *_RULE_KEYS):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"invalid outcome rule {key}={value!r}: expected a string")
            values[_RULE_KEYS.get(key, key)] = value
        status = values.pop("status")
        if status is None:
            raise ValueError("invalid outcome rule: status is missing")
        return cls(status=status, **values)

    def to_mapping(self) -> dict[str, str | None]:
        """Return the rule with the camelCase keys that `from_mapping` accepts."""
        return {
            "status": self.status,
            "message": self.message,
            "appId": self.app_id,
            "workflowId": self.workflow_id,
            "branch": self.branch,
            "tag": self.tag,
        }


def choose_outcome(
    rules: Iterable[OutcomeRule],
    *,
    app_id: str,
    workflow_id: str,
    branch: str | None,
    tag: str | None,
) -> OutcomeRule | None:
    """Return the most specific matching rule, the latest one among equals, or None."""
    best: OutcomeRule | None = None
    for rule in rules:
        if not rule.matches(app_id=app_id, workflow_id=workflow_id, branch=branch, tag=tag):
            continue
        if best is None or rule.specificity >= best.specificity:
            best = rule
    return best


@dataclass
class BuildProgress:
    """Mutable status of one build; the state's lock guards every access."""

    outcome: Outcome
    plan: tuple[str, ...]
    created_at: float
    status: str = "queued"
    message: str | None = None
    phase_index: int = 0
    """Position of the current status in `plan`; len(plan) once terminal."""
    phase_entered_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    paused: bool = False
    """True after a forced status outside the plan; only `advance` or a new force resumes."""
    entered_at: dict[str, float] = field(default_factory=dict)
    """Time each status was first entered, for build steps and timestamps."""

    def __post_init__(self) -> None:
        self.phase_entered_at = self.created_at
        self.entered_at.setdefault("queued", self.created_at)

    @classmethod
    def start(cls, outcome: Outcome, *, now: float) -> BuildProgress:
        """Create the progress of a build queued at `now`."""
        return cls(outcome=outcome, plan=plan_for(outcome.status), created_at=now)

    @property
    def is_terminal(self) -> bool:
        """Whether the build has reached a final status."""
        return self.status in TERMINAL_STATUSES

    def refresh(self, now: float, phase_seconds: float | None) -> None:
        """Apply every phase boundary the clock has passed; no-op in manual mode."""
        if not phase_seconds or self.paused:
            return
        while not self.is_terminal and now >= self.phase_entered_at + phase_seconds:
            self._enter_next(self.phase_entered_at + phase_seconds)

    def advance(self, now: float, steps: int = 1) -> None:
        """Move up to `steps` phases forward at `now`; a terminal build does not move."""
        self.paused = False
        for _ in range(steps):
            if self.is_terminal:
                return
            self._enter_next(now)

    def cancel(self, now: float) -> bool:
        """Cancel the build unless it is terminal; return whether it was canceled."""
        if self.is_terminal:
            return False
        self.paused = False
        self.status = "canceled"
        self.message = None
        self.phase_index = len(self.plan)
        self.finished_at = now
        self.entered_at.setdefault("canceled", now)
        return True

    def force(self, status: str, message: str | None, now: float) -> None:
        """Set any status at `now`, as the admin endpoint does.

        A status of the plan resumes the normal progression from there. A terminal
        status ends the build. Any other status (such as ``waiting`` or a made-up
        one) pauses the build until the next `advance` or `force`.
        """
        self.message = message
        self.entered_at.setdefault(status, now)
        if status in TERMINAL_STATUSES:
            self.paused = False
            self.status = status
            self.phase_index = len(self.plan)
            self.finished_at = now
            if status != "canceled" and self.started_at is None:
                self.started_at = now
            return

        self.finished_at = None
        if status in self.plan:
            self.paused = False
            self._enter_phase(self.plan.index(status), now)
        else:
            self.paused = True
            self.status = status
            self.phase_index = min(self.phase_index, len(self.plan) - 1)
            if self.started_at is None:
                self.started_at = now

    def _enter_next(self, now: float) -> None:
        # A paused build keeps the index of its last planned phase, so it resumes after it.
        next_index = self.phase_index + 1
        if next_index >= len(self.plan):
            self._finish(now)
        else:
            self._enter_phase(next_index, now)

    def _enter_phase(self, index: int, now: float) -> None:
        self.phase_index = index
        self.phase_entered_at = now
        self.status = self.plan[index]
        self.entered_at.setdefault(self.status, now)
        if index > 0 and self.started_at is None:
            self.started_at = now

    def _finish(self, now: float) -> None:
        self.phase_index = len(self.plan)
        self.phase_entered_at = now
        self.status = self.outcome.status
        self.message = self.outcome.message
        self.finished_at = now
        self.entered_at.setdefault(self.status, now)
        if self.started_at is None:
            self.started_at = now
