"""Load the emulator configuration: apps, their codemagic.yaml workflows, outcomes, faults.

The configuration is a YAML file (see ``samples/emulator.yaml``) with these keys:

* ``apps`` (required): a list of apps. Each has a stable 24-hex ``id``, a ``name`` and
  ``codemagicYaml``, the path of a codemagic.yaml file relative to the config file.
  Optional keys give the data the API shows: ``projectType``, ``repositoryUrl``,
  ``defaultBranch``, ``branches``, ``version``, ``packageName``, ``bundleId``,
  ``ownerTeam``, ``createdAt`` and ``environmentVariables`` (fake values only).
* ``phaseSeconds``: seconds per in-progress status, or null for manual mode.
* ``seed``: seed for build ids and artefact bytes.
* ``outcomes``: rules that choose how builds end (see `OutcomeRule.from_mapping`).
* ``faults``: fault settings (see `FaultSettings.from_mapping`).

Workflows come from the ``workflows`` map of each codemagic.yaml: the key is the
workflow id, and ``name``, ``instance_type``, ``max_build_duration``, ``labels``,
``environment``, ``scripts`` and ``artifacts`` shape the builds. Each ``artifacts``
glob becomes one artefact whose file name is derived from the glob (see
`derive_artefact`). Errors raise `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from .faults import FaultSettings
from .lifecycle import OutcomeRule

DEFAULT_INSTANCE_TYPE = "mac_mini_m2"
DEFAULT_MAX_BUILD_DURATION_MINUTES = 60
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class ConfigError(ValueError):
    """Invalid emulator configuration or codemagic.yaml file."""


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET
"""Marks a setting the config file does not give, as opposed to an explicit null."""
Unset = Literal[_Unset.UNSET]


@dataclass(frozen=True)
class ArtefactSpec:
    """One artefact a workflow produces, derived from an ``artifacts`` glob."""

    pattern: str
    """The glob as written in codemagic.yaml."""
    name: str
    """File name of the artefact, such as ``app-release.apk``."""
    type: str
    """Artefact type as the API reports it, such as ``apk`` or ``ipa``."""


@dataclass(frozen=True)
class WorkflowConfig:
    """A codemagic.yaml workflow as far as the emulator uses it."""

    key: str
    """Workflow id: the key under ``workflows`` in codemagic.yaml."""
    name: str
    """Display name (``name``), shown as ``config.name`` on builds."""
    instance_type: str
    max_build_duration_minutes: int
    labels: tuple[str, ...]
    scripts: tuple[str, ...]
    """Script step names, in order."""
    artefacts: tuple[ArtefactSpec, ...]
    groups: tuple[str, ...]
    variables: Mapping[str, str]
    software_versions: Mapping[str, str]
    """Tool versions from ``environment``, such as ``flutter`` and ``xcode``."""
    platforms: tuple[str, ...]
    """Platforms built, derived from the artefact types (android, ios)."""


@dataclass(frozen=True)
class AppConfig:
    """An emulated Codemagic application."""

    app_id: str
    name: str
    project_type: str
    repository_url: str
    default_branch: str
    branches: tuple[str, ...]
    version_name: str
    package_name: str
    bundle_id: str
    owner_team_id: str
    created_at: str
    """Creation time in the legacy timestamp form."""
    environment_variables: tuple[Mapping[str, Any], ...]
    """Entries of ``appEnvironmentVariables``; their values must be fake."""
    workflows: Mapping[str, WorkflowConfig]


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything loaded from one emulator configuration file."""

    apps: Mapping[str, AppConfig]
    """Apps by id, in file order."""
    outcomes: tuple[OutcomeRule, ...] = ()
    phase_seconds: float | Unset | None = UNSET
    faults: FaultSettings | None = None
    seed: int = 0
    source_path: Path | None = None


def default_config_path() -> Path:
    """Return the path of the sample configuration shipped with the package."""
    return Path(__file__).parent / "samples" / "emulator.yaml"


def load_config(path: Path | str | None = None) -> EmulatorConfig:
    """Load an emulator configuration file; None loads the bundled sample.

    Raises ConfigError when the file cannot be read or has an invalid value.
    """
    config_path = Path(path) if path is not None else default_config_path()
    data = _read_yaml(config_path)
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: expected a mapping at the top level")

    known = {"apps", "outcomes", "phaseSeconds", "faults", "seed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{config_path}: unknown key {unknown[0]!r}")

    apps_data = data.get("apps")
    if not isinstance(apps_data, list) or not apps_data:
        raise ConfigError(f"{config_path}: 'apps' must be a non-empty list")
    apps: dict[str, AppConfig] = {}
    for position, app_data in enumerate(apps_data):
        app = _load_app(app_data, config_path, where=f"apps[{position}]")
        if app.app_id in apps:
            raise ConfigError(f"{config_path}: apps[{position}]: duplicate id {app.app_id!r}")
        apps[app.app_id] = app

    try:
        outcomes = tuple(OutcomeRule.from_mapping(rule) for rule in _list(data, "outcomes"))
        faults_data = data.get("faults")
        faults = FaultSettings.from_mapping(faults_data) if faults_data is not None else None
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{config_path}: {error}") from error

    phase_seconds: float | Unset | None = UNSET
    if "phaseSeconds" in data:
        value = data["phaseSeconds"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"{config_path}: phaseSeconds must be a number or null")
        phase_seconds = float(value) if value is not None else None

    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{config_path}: seed must be an integer")

    return EmulatorConfig(
        apps=apps,
        outcomes=outcomes,
        phase_seconds=phase_seconds,
        faults=faults,
        seed=seed,
        source_path=config_path,
    )


def load_workflows(path: Path) -> dict[str, WorkflowConfig]:
    """Read the workflows of a codemagic.yaml file, keyed by workflow id."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("workflows"), dict):
        raise ConfigError(f"{path}: expected a 'workflows' mapping")
    workflows: dict[str, WorkflowConfig] = {}
    for key, workflow_data in data["workflows"].items():
        if not isinstance(workflow_data, dict):
            raise ConfigError(f"{path}: workflows.{key}: expected a mapping")
        workflows[str(key)] = _load_workflow(str(key), workflow_data, path)
    return workflows


def derive_artefact(pattern: str, *, used_names: set[str] | None = None) -> ArtefactSpec:
    """Derive a plausible file name and type from one codemagic.yaml ``artifacts`` glob.

    A literal last segment is kept (``mapping.txt``). A wildcard segment gets a name
    typical for its extension: ``*.apk`` gives ``app-release.apk`` (``app-debug.apk``
    when the glob mentions debug), ``*.aab`` ``app-release.aab``, ``*.ipa``
    ``Runner.ipa``, ``*.dSYM`` ``Runner.app.dSYM.zip`` and ``*.log`` a log name.
    A name already in `used_names` gets a numeric suffix, and the final name is added.
    """
    segment = pattern.rstrip("/").rsplit("/", 1)[-1]
    extension = segment.rsplit(".", 1)[-1] if "." in segment else ""
    is_wildcard = any(char in segment for char in "*?[")
    name = _wildcard_name(pattern, extension) if is_wildcard else segment
    if extension == "dSYM" and not name.endswith(".zip"):
        # Codemagic uploads directories as zip files.
        name = f"{name}.zip"

    if used_names is not None:
        base, dot, suffix = name.partition(".")
        number = 2
        while name in used_names:
            name = f"{base}-{number}{dot}{suffix}"
            number += 1
        used_names.add(name)
    return ArtefactSpec(pattern=pattern, name=name, type=_artefact_type(name, pattern))


def _wildcard_name(pattern: str, extension: str) -> str:
    lowered = pattern.lower()
    if extension in ("apk", "aab"):
        flavour = "debug" if "debug" in lowered else "release"
        return f"app-{flavour}.{extension}"
    if extension in ("ipa", "app", "xcarchive"):
        return f"Runner.{extension}"
    if extension == "dSYM":
        return "Runner.app.dSYM"
    if extension == "log":
        return "xcodebuild.log" if "xcodebuild" in lowered else "build.log"
    if extension:
        return f"output.{extension}"
    return "output.zip"


def _artefact_type(name: str, pattern: str) -> str:
    # NOTE: apk, aab, ipa and app are seen in real legacy responses. The other
    # names follow the v3 artefact type list and may differ in the legacy API.
    lowered = name.lower()
    if lowered.endswith(".dsym.zip"):
        return "dsym"
    if lowered == "mapping.txt":
        return "proguard_map"
    if lowered.endswith(".log"):
        return "xcodebuild_log" if "xcodebuild" in pattern.lower() else "log"
    extension = lowered.rsplit(".", 1)[-1] if "." in lowered else "file"
    return extension


def _platforms(artefacts: tuple[ArtefactSpec, ...]) -> tuple[str, ...]:
    platforms: list[str] = []
    for artefact in artefacts:
        if artefact.type in ("apk", "aab", "proguard_map") and "android" not in platforms:
            platforms.append("android")
        if artefact.type in ("ipa", "app", "dsym", "xcodebuild_log") and "ios" not in platforms:
            platforms.append("ios")
    return tuple(platforms)


def _load_workflow(key: str, data: dict[str, Any], path: Path) -> WorkflowConfig:
    where = f"{path}: workflows.{key}"
    environment = data.get("environment") or {}
    if not isinstance(environment, dict):
        raise ConfigError(f"{where}.environment: expected a mapping")
    variables = environment.get("vars") or {}
    groups = environment.get("groups") or []
    if not isinstance(variables, dict) or not isinstance(groups, list):
        raise ConfigError(f"{where}.environment: vars must be a mapping and groups a list")
    software_versions = {
        str(name): str(value)
        for name, value in environment.items()
        if name not in ("vars", "groups") and isinstance(value, str | int | float)
    }

    scripts: list[str] = []
    for position, script in enumerate(data.get("scripts") or []):
        scripts.append(_script_name(script, f"{where}.scripts[{position}]"))

    used_names: set[str] = set()
    artefacts = tuple(
        derive_artefact(str(pattern), used_names=used_names)
        for pattern in data.get("artifacts") or []
    )

    labels = data.get("labels") or []
    if not isinstance(labels, list):
        raise ConfigError(f"{where}.labels: expected a list")
    duration = data.get("max_build_duration", DEFAULT_MAX_BUILD_DURATION_MINUTES)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise ConfigError(f"{where}.max_build_duration: expected an integer number of minutes")

    return WorkflowConfig(
        key=key,
        name=str(data.get("name") or key),
        instance_type=str(data.get("instance_type") or DEFAULT_INSTANCE_TYPE),
        max_build_duration_minutes=duration,
        labels=tuple(str(label) for label in labels),
        scripts=tuple(scripts),
        artefacts=artefacts,
        groups=tuple(str(group) for group in groups),
        variables={str(name): str(value) for name, value in variables.items()},
        software_versions=software_versions,
        platforms=_platforms(artefacts),
    )


def _script_name(script: object, where: str) -> str:
    if isinstance(script, str):
        return _first_line(script)
    if isinstance(script, dict):
        if isinstance(script.get("name"), str):
            return str(script["name"])
        if isinstance(script.get("script"), str):
            return _first_line(script["script"])
    raise ConfigError(f"{where}: expected a script string or a mapping with name or script")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "script"
    return line if len(line) <= 60 else line[:57] + "..."


def _load_app(data: object, config_path: Path, *, where: str) -> AppConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: {where}: expected a mapping")
    known = {
        "id",
        "name",
        "codemagicYaml",
        "projectType",
        "repositoryUrl",
        "defaultBranch",
        "branches",
        "version",
        "packageName",
        "bundleId",
        "ownerTeam",
        "createdAt",
        "environmentVariables",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{config_path}: {where}: unknown key {unknown[0]!r}")

    app_id = data.get("id")
    if not isinstance(app_id, str) or not _OBJECT_ID.match(app_id):
        raise ConfigError(f"{config_path}: {where}.id: expected 24 lower-case hex digits")
    name = _text(data, "name", config_path, where)
    yaml_name = _text(data, "codemagicYaml", config_path, where)
    workflows = load_workflows(config_path.parent / yaml_name)

    owner_team = str(data.get("ownerTeam", "0" * 24))
    if not _OBJECT_ID.match(owner_team):
        raise ConfigError(f"{config_path}: {where}.ownerTeam: expected 24 lower-case hex digits")
    default_branch = str(data.get("defaultBranch", "main"))
    branches = data.get("branches") or [default_branch]
    variables = data.get("environmentVariables") or []
    if not isinstance(branches, list) or not isinstance(variables, list):
        raise ConfigError(f"{config_path}: {where}: branches and environmentVariables are lists")

    return AppConfig(
        app_id=app_id,
        name=name,
        project_type=str(data.get("projectType", "flutter-app")),
        repository_url=str(data.get("repositoryUrl", f"https://github.com/example/{name}.git")),
        default_branch=default_branch,
        branches=tuple(str(branch) for branch in branches),
        version_name=str(data.get("version", "1.0.0")),
        package_name=str(data.get("packageName", f"com.example.{name}")),
        bundle_id=str(data.get("bundleId", f"com.example.{name}")),
        owner_team_id=owner_team,
        created_at=str(data.get("createdAt", "2024-01-01T00:00:00.000+0000")),
        environment_variables=tuple(dict(variable) for variable in variables),
        workflows=workflows,
    )


def _text(data: Mapping[str, object], key: str, config_path: Path, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{config_path}: {where}.{key}: expected a non-empty string")
    return value


def _list(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"'{key}' must be a list of mappings")
    return value


def _read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from error
