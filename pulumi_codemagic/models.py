"""Request and response bodies of the Codemagic REST API as pydantic models.

Attributes are snake_case and read the API's camelCase keys through aliases; both spellings
are accepted on input. Unknown keys are ignored, so new fields in Codemagic's replies do not
break parsing.

Some fields of Codemagic's replies contain live credentials: ``build.vncAccess`` (VNC host,
user and password), ``build.sshAccess`` (SSH script URL), ``application.appEnvironmentVariables``
and ``application.workflows`` (Workflow Editor environment variables). None of them is a field
here, so they are dropped while parsing and cannot reach Pulumi state, outputs or logs.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .statuses import DEFAULT_SUCCESS_STATUSES
from .statuses import is_terminal as _status_is_terminal
from .timestamps import parse_timestamp

__all__ = [
    "Application",
    "ApplicationEnvelope",
    "ApplicationList",
    "Artefact",
    "Build",
    "BuildEnvelope",
    "BuildEnvironment",
    "BuildListPage",
    "CancelResult",
    "CodemagicModel",
    "PublicUrl",
    "PublicUrlRequest",
    "StartBuildRequest",
    "StartBuildResponse",
    "Timestamp",
    "build_page_url",
]

BUILD_PAGE_BASE_URL = "https://codemagic.io"


def build_page_url(app_id: str, build_id: str) -> str:
    """Return the Codemagic web page of a build, ``https://codemagic.io/app/<app>/build/<build>``."""
    return f"{BUILD_PAGE_BASE_URL}/app/{quote(app_id, safe='')}/build/{quote(build_id, safe='')}"


def _parse_timestamp_text(value: object) -> object:
    if isinstance(value, str):
        return parse_timestamp(value)
    return value


def _require_time_zone(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the datetime has no time zone; pass an aware datetime")
    return value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_parse_timestamp_text),
    AfterValidator(_require_time_zone),
]
"""An aware datetime, parsed from any timestamp form Codemagic returns."""


class CodemagicModel(BaseModel):
    """Base of all models: camelCase aliases, unknown keys ignored, immutable.

    Validation errors never quote the input, because request bodies can carry environment
    variable values.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )


# ---------------------------------------------------------------------------------------------
# Requests


_ENVIRONMENT_KEYS = frozenset({"variables", "groups", "softwareVersions", "software_versions"})


class BuildEnvironment(CodemagicModel):
    """The ``environment`` of a start request: variables, variable groups, software versions.

    Variables set here take precedence over application and team variables.
    """

    variables: dict[str, str] = Field(default_factory=dict)
    """Environment variables for this build only, name to value."""

    groups: list[str] = Field(default_factory=list)
    """Names of variable groups (defined in Codemagic) to add to the build."""

    software_versions: dict[str, str] = Field(default_factory=dict)
    """Tool versions to use, such as ``{"xcode": "15.4", "flutter": "3.22.2"}``."""

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        # Codemagic silently ignores unknown keys here, so a flat map of variables would start
        # a build without them. The message names the keys but never their values.
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in _ENVIRONMENT_KEYS)
            if unknown:
                example = ", ".join(f'"{key}": "..."' for key in unknown[:3])
                raise ValueError(
                    "environment accepts only the keys variables, groups and softwareVersions, "
                    f"but got {', '.join(unknown)}. Put environment variables under "
                    f'"variables", for example {{"variables": {{{example}}}}}'
                )
        return data

    @field_validator("variables")
    @classmethod
    def _check_variable_names(cls, variables: dict[str, str]) -> dict[str, str]:
        for name in variables:
            if not name.strip():
                raise ValueError("environment variable names must not be empty")
        return variables

    def is_empty(self) -> bool:
        """Tell whether no variable, group or software version is set."""
        return not (self.variables or self.groups or self.software_versions)

    def to_json_body(self) -> dict[str, Any]:
        """Return the JSON object Codemagic expects, leaving out empty parts."""
        body: dict[str, Any] = {}
        if self.variables:
            body["variables"] = dict(self.variables)
        if self.groups:
            body["groups"] = list(self.groups)
        if self.software_versions:
            body["softwareVersions"] = dict(self.software_versions)
        return body


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]


class StartBuildRequest(CodemagicModel):
    """Body of ``POST /builds``."""

    app_id: NonEmptyStr
    """Codemagic application id (24 hexadecimal characters)."""

    workflow_id: NonEmptyStr
    """For a codemagic.yaml app, the workflow's key under ``workflows:`` (such as
    ``ios-release``), not its display ``name``. For a Workflow Editor app, the workflow id."""

    branch: str | None = None
    """Git branch to build. Exactly one of ``branch`` and ``tag`` is set."""

    tag: str | None = None
    """Git tag to build. Exactly one of ``branch`` and ``tag`` is set."""

    environment: BuildEnvironment | None = None
    """Variables, variable groups and software versions for this build only."""

    labels: list[str] = Field(default_factory=list)
    """Labels added to the build, in addition to those in codemagic.yaml."""

    instance_type: str | None = None
    """Build machine type, such as ``mac_mini_m2`` or ``linux_x2``; the workflow's own by
    default."""

    @model_validator(mode="after")
    def _require_branch_or_tag(self) -> StartBuildRequest:
        has_branch = bool(self.branch and self.branch.strip())
        has_tag = bool(self.tag and self.tag.strip())
        if has_branch and has_tag:
            raise ValueError(
                f"set only one of branch ({self.branch!r}) and tag ({self.tag!r}): "
                "a build checks out either a branch or a tag"
            )
        if not has_branch and not has_tag:
            raise ValueError("set a branch or a tag to build: Codemagic requires one of them")
        return self

    def with_label(self, label: str) -> StartBuildRequest:
        """Return a copy whose ``labels`` end with ``label``, unless they already contain it."""
        if label in self.labels:
            return self
        return self.model_copy(update={"labels": [*self.labels, label]})

    def to_json_body(self) -> dict[str, Any]:
        """Return the JSON object to send, leaving out unset and empty parts."""
        body: dict[str, Any] = {"appId": self.app_id, "workflowId": self.workflow_id}
        if self.branch is not None:
            body["branch"] = self.branch
        if self.tag is not None:
            body["tag"] = self.tag
        if self.environment is not None and not self.environment.is_empty():
            body["environment"] = self.environment.to_json_body()
        if self.labels:
            body["labels"] = list(self.labels)
        if self.instance_type is not None:
            body["instanceType"] = self.instance_type
        return body


class PublicUrlRequest(CodemagicModel):
    """Body of ``POST <artefact url>/public-url``."""

    expires_at: int
    """Expiry of the public URL, in UNIX seconds."""


# ---------------------------------------------------------------------------------------------
# Responses


class Artefact(CodemagicModel):
    """A file a build produced (Codemagic spells it "artefact" in the legacy API)."""

    name: str
    """File name, such as ``app-release.apk``."""

    type: str | None = None
    """Kind of file, such as ``apk``, ``aab``, ``ipa`` or ``app``."""

    url: str
    """Download URL. Since 2023 it is ``https://api.codemagic.io/artifacts/...`` and needs the
    API token."""

    md5: str | None = None
    """MD5 checksum of the file, as hex."""

    size: int | None = None
    """Size of the file, in bytes."""

    version_name: str | None = None
    """App version name read from the package, if any."""

    package_name: str | None = None
    """Android package name or bundle id, if any."""

    path: str | None = None
    """Secure file name (``<uuid>/<uuid>/<file>``) when Codemagic sends it."""


class Build(CodemagicModel):
    """A Codemagic build as returned by ``GET /builds/:id`` and ``GET /builds``."""

    id: str = Field(alias="_id")
    """Build id (24 hexadecimal characters)."""

    app_id: str
    """Id of the application the build belongs to."""

    workflow_id: str | None = None
    """Workflow id. For codemagic.yaml builds Codemagic sends ``workflowId: null`` and the yaml
    key in ``fileWorkflowId``, so this field contains that key."""

    index: int | None = None
    """Build number within the application."""

    status: str
    """Build status; see :mod:`pulumi_codemagic.statuses`. Unknown values are kept."""

    message: str | None = None
    """Codemagic's explanation of a failure, such as ``Failed to clone repository``."""

    branch: str | None = None
    """Built branch, or ``None`` for a tag build."""

    tag: str | None = None
    """Built tag, or ``None`` for a branch build."""

    labels: list[str] = Field(default_factory=list)
    """Labels of the build."""

    instance_type: str | None = None
    """Build machine type, such as ``mac_mini_m2``."""

    version: str | None = None
    """App version Codemagic detected, or ``None`` (it also sends ``""`` for none)."""

    created_at: Timestamp | None = None
    """When the build was created."""

    started_at: Timestamp | None = None
    """When the build started running; ``None`` while queued."""

    finished_at: Timestamp | None = None
    """When the build ended; ``None`` while running."""

    artefacts: list[Artefact] = Field(default_factory=list)
    """Files the build produced. Codemagic sends ``null`` for none, stored as ``[]``."""

    @model_validator(mode="before")
    @classmethod
    def _use_file_workflow_id(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("workflowId") is None and data.get("workflow_id") is None:
            file_workflow_id = data.get("fileWorkflowId") or data.get("file_workflow_id")
            if file_workflow_id:
                return {**data, "workflowId": file_workflow_id}
        return data

    @field_validator("artefacts", "labels", mode="before")
    @classmethod
    def _null_as_empty_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("version", mode="before")
    @classmethod
    def _empty_version_as_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def is_terminal(self) -> bool:
        """Whether the build has stopped for good; an unknown status counts as running."""
        return _status_is_terminal(self.status)

    def is_success(self, success_statuses: frozenset[str] = DEFAULT_SUCCESS_STATUSES) -> bool:
        """Tell whether the build ended in one of ``success_statuses``."""
        return self.status in success_statuses

    @property
    def page_url(self) -> str:
        """Codemagic web page of the build."""
        return build_page_url(self.app_id, self.id)


class Application(CodemagicModel):
    """A Codemagic application (a connected repository)."""

    id: str = Field(alias="_id")
    """Application id (24 hexadecimal characters)."""

    app_name: str
    """Display name, usually the repository name."""

    archived: bool | None = None
    """Whether the application is archived."""

    project_type: str | None = None
    """Project type, such as ``flutter-app``."""

    settings_source: str | None = None
    """Source of the workflow definitions: ``file`` (codemagic.yaml) or ``ui`` (Workflow
    Editor)."""

    last_build_id: str | None = None
    """Id of the newest build."""

    workflow_ids: list[str] = Field(default_factory=list)
    """Workflow Editor workflow ids; codemagic.yaml workflows are not listed."""

    branches: list[str] = Field(default_factory=list)
    """Branches of the repository, as Codemagic last fetched them."""

    @field_validator("workflow_ids", "branches", mode="before")
    @classmethod
    def _null_as_empty_list(cls, value: Any) -> Any:
        return [] if value is None else value


class PublicUrl(CodemagicModel):
    """A public download URL of an artefact: anyone holding it can download until expiry."""

    url: str
    """The public URL. Treat it as a secret."""

    expires_at: Timestamp
    """When the URL stops working, as returned by Codemagic (it may differ slightly from the
    requested expiry)."""


class CancelResult(enum.Enum):
    """Outcome of ``POST /builds/:id/cancel``."""

    CANCELED = "canceled"
    """Codemagic accepted the cancellation (HTTP 200)."""

    ALREADY_FINISHED = "already_finished"
    """The build had already ended, so nothing was canceled (HTTP 208)."""


# ---------------------------------------------------------------------------------------------
# Reply envelopes (used by the client; not part of the package's top-level exports)


class StartBuildResponse(CodemagicModel):
    """Reply of ``POST /builds``: ``{"buildId": ...}``."""

    build_id: NonEmptyStr


class BuildEnvelope(CodemagicModel):
    """Reply of ``GET /builds/:id``: ``{"application": ..., "build": ...}``."""

    application: Application | None = None
    build: Build

    @model_validator(mode="before")
    @classmethod
    def _copy_app_id_into_build(cls, data: Any) -> Any:
        # The documented example of this reply has no appId inside "build", only in
        # "application"; the build needs it for its page URL.
        if not isinstance(data, dict):
            return data
        build, application = data.get("build"), data.get("application")
        if not (isinstance(build, dict) and isinstance(application, dict)):
            return data
        if build.get("appId") is None and build.get("app_id") is None:
            app_id = application.get("_id", application.get("id"))
            if app_id is not None:
                return {**data, "build": {**build, "appId": app_id}}
        return data


class BuildListPage(CodemagicModel):
    """One page of ``GET /builds``: up to 30 builds, newest first."""

    builds: list[Build] = Field(default_factory=list)
    next_page_url: str | None = None

    @field_validator("builds", mode="before")
    @classmethod
    def _null_as_empty_list(cls, value: Any) -> Any:
        return [] if value is None else value


class ApplicationList(CodemagicModel):
    """Reply of ``GET /apps``: ``{"applications": [...]}``."""

    applications: list[Application] = Field(default_factory=list)

    @field_validator("applications", mode="before")
    @classmethod
    def _null_as_empty_list(cls, value: Any) -> Any:
        return [] if value is None else value


class ApplicationEnvelope(CodemagicModel):
    """Reply of ``GET /apps/:id``: ``{"application": ...}``."""

    application: Application
