"""Render emulated apps and builds as the JSON objects the legacy Codemagic API sends.

Field names, nulls and timestamp forms follow real legacy responses: ``_id``,
camelCase keys, ``workflowId: null`` plus ``fileWorkflowId`` for codemagic.yaml
builds, ``startedAt: null`` while queued, ``artefacts: null`` on canceled, failed
and timed-out builds, and timestamps like ``2020-09-08T07:18:02.203+0000``. Builds
also carry fields a client must ignore, among them ``sshAccess`` and ``vncAccess``
with fake credentials and ``appEnvironmentVariables`` on the application.

The functions here only read, and the state calls them while it has its lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .artefacts import ArtefactFile
from .clock import format_legacy_timestamp
from .config import AppConfig, WorkflowConfig
from .lifecycle import ARTEFACT_STATUSES, BuildProgress

FAKE_VNC_PASSWORD = "emulator-fake-vnc-password"
"""Password sent in every build's ``vncAccess``; tests search outputs for it."""
FAKE_SSH_SCRIPT_PATH = "/_emulator/fake-ssh-access.sh"

_STEP_FETCHED = ("building", "testing", "publishing", "finishing")


@dataclass
class BuildRecord:
    """Everything the emulator stores about one build; guarded by the state's lock."""

    build_id: str
    sequence: int
    """Creation order across all builds, used for newest-first listing."""
    app_id: str
    workflow_id: str
    index: int
    branch: str | None
    tag: str | None
    labels: tuple[str, ...]
    instance_type: str
    environment: dict[str, Any]
    start_request: dict[str, Any]
    """The POST /builds body as received."""
    progress: BuildProgress
    files: tuple[ArtefactFile, ...] | None = None


@dataclass(frozen=True)
class BuildStep:
    """One entry of ``buildActions``."""

    action_id: str
    name: str
    type: str | None
    phase: str


def build_steps(record: BuildRecord, workflow: WorkflowConfig) -> list[BuildStep]:
    """Return the steps of a build: machine set-up, clone, scripts, publishing, clean-up."""
    named = [
        ("Preparing build machine", "preparing", "preparing"),
        ("Fetching app sources", "fetching", "fetching"),
        *((script, None, "building") for script in workflow.scripts),
        ("Publishing", "publishing", "publishing"),
        ("Cleaning up", "finishing", "finishing"),
    ]
    steps: list[BuildStep] = []
    for position, (name, step_type, phase) in enumerate(named):
        digest = hashlib.sha1(f"{record.build_id}/{position}".encode(), usedforsecurity=False)
        steps.append(BuildStep(digest.hexdigest()[:24], name, step_type, phase))
    return steps


def application_payload(app: AppConfig, last_build_id: str | None) -> dict[str, Any]:
    """Render an application as in ``GET /apps/:id``."""
    url_parts = app.repository_url.removesuffix(".git").rsplit("/", 2)
    owner = url_parts[-2] if len(url_parts) > 1 else ""
    return {
        "_id": app.app_id,
        "appName": app.name,
        "archived": False,
        "branches": list(app.branches),
        "buildSchedule": [],
        "createdAt": app.created_at,
        "iconUrl": None,
        "isConfigured": True,
        "lastBuildId": last_build_id,
        "ownerTeam": app.owner_team_id,
        "projectFiles": [],
        "projectType": app.project_type,
        "repository": {
            "defaultBranch": app.default_branch,
            "htmlUrl": app.repository_url.removesuffix(".git"),
            "id": int(hashlib.sha1(app.app_id.encode(), usedforsecurity=False).hexdigest()[:7], 16),
            "isAuthenticationEnabled": False,
            "language": "Dart" if app.project_type.startswith("flutter") else "Kotlin",
            "owner": {"name": owner},
            "provider": "github",
            "publicSshKey": None,
            "username": None,
        },
        "settingsSource": "file",
        # The Workflow Editor lists only its own workflows here; yaml workflows are
        # unknown until a build reads codemagic.yaml, so yaml apps show none.
        "workflowIds": [],
        "workflows": {},
        "appEnvironmentVariables": [dict(variable) for variable in app.environment_variables],
    }


def build_payload(
    record: BuildRecord, app: AppConfig, workflow: WorkflowConfig, base_url: str
) -> dict[str, Any]:
    """Render a build as in ``GET /builds/:id`` under ``build``."""
    progress = record.progress
    # The commit and the app version are known once the sources are fetched.
    fetched = progress.status in ("skipped", "finished", "warning") or any(
        phase in progress.entered_at for phase in _STEP_FETCHED
    )
    software = dict(workflow.software_versions)
    software.update(record.environment.get("softwareVersions") or {})

    return {
        "_id": record.build_id,
        "appId": record.app_id,
        "workflowId": None,
        "fileWorkflowId": record.workflow_id,
        "index": record.index,
        "status": progress.status,
        "message": progress.message,
        "branch": record.branch,
        "tag": record.tag,
        "labels": list(record.labels),
        "instanceType": record.instance_type,
        "version": app.version_name if fetched else None,
        "createdAt": format_legacy_timestamp(progress.created_at),
        "startedAt": _timestamp(progress.started_at),
        "finishedAt": _timestamp(progress.finished_at),
        "artefacts": _artefacts_payload(record, base_url),
        "buildActions": _steps_payload(record, workflow, base_url),
        "commit": _commit_payload(record, app) if fetched else None,
        "pullRequest": None,
        "config": {
            "name": workflow.name,
            "buildSettings": {
                "flutterVersion": software.get("flutter"),
                "xcodeVersion": software.get("xcode"),
                "platforms": list(workflow.platforms),
            },
        },
        "dynamicConfig": {},
        "feedback": None,
        "screenshots": None,
        "scheduledBuildId": None,
        "sshAccessEnabled": False,
        "sshAccess": {"scriptUrl": f"{base_url}{FAKE_SSH_SCRIPT_PATH}"},
        "vncAccess": {
            "host": "vnc.emulator.invalid",
            "port": 5900,
            "username": "emulator-fake-vnc-user",
            "password": FAKE_VNC_PASSWORD,
        },
    }


def _artefacts_payload(record: BuildRecord, base_url: str) -> list[dict[str, Any]] | None:
    status = record.progress.status
    if status in ("canceled", "failed", "timeout"):
        return None
    if status not in ARTEFACT_STATUSES or record.files is None:
        return []
    payload: list[dict[str, Any]] = []
    for file in record.files:
        item: dict[str, Any] = {
            "md5": file.md5,
            "name": file.name,
            "path": file.secure_path,
            "size": file.size,
            "type": file.type,
            "url": f"{base_url}/artifacts/{file.secure_path}",
        }
        if file.package_name is not None:
            item["packageName"] = file.package_name
            item["versionName"] = file.version_name
            item["versionCode"] = file.version_code
        if file.type == "ipa":
            item["bundleId"] = file.package_name
        payload.append(item)
    return payload


def _steps_payload(
    record: BuildRecord, workflow: WorkflowConfig, base_url: str
) -> list[dict[str, Any]]:
    progress = record.progress
    steps = build_steps(record, workflow)
    scripts = [step for step in steps if step.phase == "building"]
    current = _current_phase(progress)
    payload: list[dict[str, Any]] = []
    for step in steps:
        started, finished = _step_window(step, scripts, progress)
        payload.append(
            {
                "_id": step.action_id,
                "name": step.name,
                "type": step.type,
                "status": _step_status(step, scripts, progress, current),
                "startedAt": _timestamp(started),
                "finishedAt": _timestamp(finished),
                "logUrl": f"{base_url}/builds/{record.build_id}/step/{step.action_id}",
                "subactions": [],
                "results": [],
            }
        )
    return payload


def _current_phase(progress: BuildProgress) -> str | None:
    """Return the latest planned phase the build has entered."""
    entered = [phase for phase in progress.plan if phase in progress.entered_at]
    return entered[-1] if entered else None


def _step_window(
    step: BuildStep, scripts: list[BuildStep], progress: BuildProgress
) -> tuple[float | None, float | None]:
    """Return when a step started and finished, from the times the phases were entered."""
    started = progress.entered_at.get(step.phase)
    if started is None or step.phase not in progress.plan:
        return None, None
    following = progress.plan[progress.plan.index(step.phase) + 1 :]
    ends = [progress.entered_at[phase] for phase in following if phase in progress.entered_at]
    if progress.finished_at is not None:
        ends.append(progress.finished_at)
    ended = min(ends) if ends else None
    if step.phase != "building" or not scripts:
        return started, ended

    # Scripts share the building phase in equal slices once it is over.
    position = scripts.index(step)
    if ended is None:
        return (started if position == 0 else None), None
    width = (ended - started) / len(scripts)
    return started + position * width, started + (position + 1) * width


def _step_status(
    step: BuildStep, scripts: list[BuildStep], progress: BuildProgress, current: str | None
) -> str | None:
    status = progress.status
    entered = step.phase in progress.entered_at and step.phase in progress.plan
    if not entered:
        return "skipped" if progress.is_terminal and status != "canceled" else None
    if status in ("failed", "timeout") and scripts and step == scripts[-1]:
        return "failed"
    if step.phase != current:
        return "success"
    if status == "canceled":
        return "canceled"
    return "success" if progress.is_terminal else None


def _commit_payload(record: BuildRecord, app: AppConfig) -> dict[str, Any]:
    reference = record.branch or record.tag or ""
    commit_hash = hashlib.sha1(
        f"{app.app_id}/{reference}".encode(), usedforsecurity=False
    ).hexdigest()
    return {
        "hash": commit_hash,
        "url": f"{app.repository_url.removesuffix('.git')}/commit/{commit_hash}",
        "branch": record.branch,
        "commitMessage": f"Prepare {app.name} {app.version_name}",
        "authorName": "Casey Example",
        "authorEmail": "casey@example.com",
        "authorAvatarUrl": None,
        "committerName": "Casey Example",
        "committerEmail": "casey@example.com",
        "isPullRequest": False,
        "pullRequestNumber": None,
    }


def _timestamp(moment: float | None) -> str | None:
    return format_legacy_timestamp(moment) if moment is not None else None
