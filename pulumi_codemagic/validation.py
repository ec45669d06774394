"""Validate and normalize the inputs of a ``Build`` resource without any HTTP call.

``check_build_inputs`` backs ``BuildProvider.check``: it returns the inputs with defaults filled
in and one ``CheckFailure`` per bad property, each naming the property and the fix. A value that
is unknown during preview (computed from another resource) passes through unchecked, because
it is only known at deployment time.

The property names and the groups they belong to (which ones replace the build, which ones
update in place) are defined here, so the provider and the resource share one list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult
from pulumi.output import Unknown
from pulumi.runtime import rpc

from .statuses import DEFAULT_SUCCESS_STATUSES, TERMINAL_STATUSES

__all__ = [
    "DEFAULT_POLL_INTERVAL_SECONDS",
    "DEFAULT_WAIT_TIMEOUT_MINUTES",
    "INPUT_PROPERTIES",
    "MAX_POLL_INTERVAL_SECONDS",
    "MAX_PUBLIC_URL_TTL_HOURS",
    "MAX_WAIT_TIMEOUT_MINUTES",
    "MIN_POLL_INTERVAL_SECONDS",
    "MIN_PUBLIC_URL_TTL_HOURS",
    "REPLACE_PROPERTIES",
    "UPDATE_PROPERTIES",
    "check_build_inputs",
    "contains_unknown",
    "normalize_build_inputs",
]

REPLACE_PROPERTIES: tuple[str, ...] = (
    "app_id",
    "workflow_id",
    "branch",
    "tag",
    "environment",
    "labels",
    "instance_type",
    "triggers",
)
"""Inputs that define what is built: a change starts a new build that replaces the old one."""

UPDATE_PROPERTIES: tuple[str, ...] = (
    "wait_for_completion",
    "wait_timeout_minutes",
    "poll_interval_seconds",
    "success_statuses",
    "cancel_on_delete",
    "public_artefact_url_ttl_hours",
)
"""Inputs that only steer the provider: a change is stored in place and starts no build."""

INPUT_PROPERTIES: tuple[str, ...] = REPLACE_PROPERTIES + UPDATE_PROPERTIES
"""Every input property of a ``Build``, in the order they are checked."""

DEFAULT_WAIT_TIMEOUT_MINUTES = 180
"""Default deadline of a create: Codemagic's 120-minute build limit plus an hour in the queue."""

MAX_WAIT_TIMEOUT_MINUTES = 24 * 60
"""Largest accepted ``wait_timeout_minutes`` (one day), to catch a unit mistake early."""

DEFAULT_POLL_INTERVAL_SECONDS = 30
"""Default maximum time between two status requests while waiting."""

MIN_POLL_INTERVAL_SECONDS = 1
MAX_POLL_INTERVAL_SECONDS = 600
"""Accepted range of ``poll_interval_seconds``, in seconds."""

MIN_PUBLIC_URL_TTL_HOURS = 1
# NOTE: Codemagic does not document a maximum lifetime for public artefact URLs. One year
# matches the longest artefact retention of its plans; a URL outliving its artefact is useless.
MAX_PUBLIC_URL_TTL_HOURS = 365 * 24
"""Accepted range of ``public_artefact_url_ttl_hours``, in hours."""

_ENVIRONMENT_KEYS = ("variables", "groups", "software_versions")
# The API spells the last key ``softwareVersions``; both spellings are accepted in a dict.
_ENVIRONMENT_KEY_ALIASES = {"softwareVersions": "software_versions"}
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_DEFAULTS: dict[str, Any] = {
    "app_id": None,
    "workflow_id": None,
    "branch": None,
    "tag": None,
    "environment": None,
    "labels": [],
    "instance_type": None,
    "triggers": [],
    "wait_for_completion": True,
    "wait_timeout_minutes": DEFAULT_WAIT_TIMEOUT_MINUTES,
    "poll_interval_seconds": DEFAULT_POLL_INTERVAL_SECONDS,
    "success_statuses": sorted(DEFAULT_SUCCESS_STATUSES),
    "cancel_on_delete": True,
    "public_artefact_url_ttl_hours": None,
}


def contains_unknown(value: Any) -> bool:
    """Tell whether ``value`` is, or contains, a value that is unknown during preview.

    The dynamic provider receives unknowns as ``pulumi.output.Unknown`` instances; the wire
    form is the string ``rpc.UNKNOWN``. Both count.
    """
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == rpc.UNKNOWN
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(item) for item in value)
    return False


def check_build_inputs(news: Mapping[str, Any]) -> CheckResult:
    """Validate the inputs of a ``Build`` and fill in defaults.

    Returns a ``CheckResult`` whose inputs contain every property of :data:`INPUT_PROPERTIES`
    (unknown values kept as they are) and whose failures list each bad property once.
    Keys outside :data:`INPUT_PROPERTIES` are dropped.
    """
    checker = _Checker(news)
    checker.run()
    return CheckResult(checker.inputs, checker.failures)


def normalize_build_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return the inputs of ``props`` in the normalized form that ``check`` produces.

    Used to compare an old state with new inputs in ``diff``. Invalid values are kept as
    they are, so a comparison still finds them different.
    """
    return check_build_inputs(props).inputs


class _Checker:
    """One validation run: collects normalized inputs and failures."""

    def __init__(self, news: Mapping[str, Any]) -> None:
        self.news = {key: rpc.unwrap_rpc_secret(value) for key, value in news.items()}
        self.inputs: dict[str, Any] = {}
        self.failures: list[CheckFailure] = []

    def fail(self, property_: str, reason: str) -> None:
        self.failures.append(CheckFailure(property_, reason))

    def value(self, key: str) -> Any:
        """Return the input ``key``, or its default when it is missing or None."""
        value = self.news.get(key)
        if value is None:
            default = _DEFAULTS[key]
            return list(default) if isinstance(default, list) else default
        return value

    def run(self) -> None:
        for key in INPUT_PROPERTIES:
            self.inputs[key] = self.value(key)

        self.check_id("app_id", "the Codemagic application id, shown in the app's URL")
        self.check_id("workflow_id", "the workflow key under `workflows:` in codemagic.yaml")
        self.check_ref()
        self.check_environment()
        self.check_labels()
        self.check_instance_type()
        self.check_triggers()
        self.check_bool("wait_for_completion")
        self.check_wait_timeout()
        self.check_poll_interval()
        self.check_success_statuses()
        self.check_bool("cancel_on_delete")
        self.check_ttl()

    def check_id(self, key: str, meaning: str) -> None:
        value = self.inputs[key]
        if contains_unknown(value):
            return
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(key, f"Missing {key}: set it to {meaning}.")
        elif not isinstance(value, str):
            self.fail(key, f"{key} must be a string, got {_describe(value)}: set it to {meaning}.")
        elif value != value.strip():
            self.fail(
                key,
                f"{key} {value!r} has leading or trailing whitespace: use {value.strip()!r}.",
            )

    def check_ref(self) -> None:
        branch, tag = self.inputs["branch"], self.inputs["tag"]
        if contains_unknown(branch) or contains_unknown(tag):
            return

        for key, value in (("branch", branch), ("tag", tag)):
            if value is not None and not isinstance(value, str):
                self.fail(key, f"{key} must be a string, got {_describe(value)}.")
                return
            if value is not None and not value.strip():
                self.fail(key, f"{key} is empty: set a {key} name or leave {key} unset.")
                return

        if branch is None and tag is None:
            self.fail(
                "branch",
                'Missing branch or tag: set branch (for example "main") to build a branch, '
                'or tag (for example "v1.0.0") to build a tag.',
            )
        elif branch is not None and tag is not None:
            self.fail(
                "branch",
                f"Both branch ({branch!r}) and tag ({tag!r}) are set, but a build takes "
                "exactly one of them: remove branch to build the tag, or tag to build the branch.",
            )

    def check_environment(self) -> None:
        environment = self.inputs["environment"]
        if environment is None:
            self.inputs["environment"] = {"variables": {}, "groups": [], "software_versions": {}}
            return
        if contains_unknown(environment) and not isinstance(environment, Mapping):
            return
        if not isinstance(environment, Mapping):
            self.fail(
                "environment",
                f"environment must be a map or BuildEnvironmentArgs, got {_describe(environment)}.",
            )
            return

        renamed: dict[str, Any] = {
            _ENVIRONMENT_KEY_ALIASES.get(str(key), str(key)): value
            for key, value in environment.items()
        }
        unexpected = sorted(key for key in renamed if key not in _ENVIRONMENT_KEYS)
        if unexpected:
            self.fail("environment", _unexpected_environment_keys(renamed, unexpected))
            return

        normalized = {
            "variables": _or_default(renamed.get("variables"), {}),
            "groups": _or_default(renamed.get("groups"), []),
            "software_versions": _or_default(renamed.get("software_versions"), {}),
        }
        self.inputs["environment"] = normalized
        self.check_variables(normalized["variables"])
        self.check_string_list("environment.groups", normalized["groups"], "variable group name")
        self.check_software_versions(normalized["software_versions"])

    def check_variables(self, variables: Any) -> None:
        property_ = "environment.variables"
        if contains_unknown(variables) and not isinstance(variables, Mapping):
            return
        if not isinstance(variables, Mapping):
            self.fail(
                property_,
                f"{property_} must be a map of names to strings, got {_describe(variables)}.",
            )
            return

        problems: list[str] = []
        bad_names = sorted(
            name
            for name in variables
            if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name)
        )
        if bad_names:
            problems.append(
                "Invalid variable names "
                + ", ".join(repr(name) for name in bad_names)
                + ": a name starts with a letter or underscore and contains only letters, "
                "digits and underscores."
            )
        bad_values = sorted(
            str(name)
            for name, value in variables.items()
            if not isinstance(value, str) and not contains_unknown(value)
        )
        if bad_values:
            examples = ", ".join(f"{name} is {_describe(variables[name])}" for name in bad_values)
            problems.append(
                f"Variable values must be strings ({examples}): quote them, for example "
                f'"{_stringify(variables[bad_values[0]])}".'
            )
        if problems:
            self.fail(property_, " ".join(problems))

    def check_software_versions(self, versions: Any) -> None:
        property_ = "environment.software_versions"
        if contains_unknown(versions) and not isinstance(versions, Mapping):
            return
        if not isinstance(versions, Mapping):
            self.fail(
                property_,
                f"{property_} must be a map of tool names to versions, for example "
                f'{{"flutter": "3.24.0"}}, got {_describe(versions)}.',
            )
            return
        bad = sorted(
            str(name)
            for name, version in versions.items()
            if not contains_unknown(version) and (not isinstance(version, str) or not version)
        )
        if bad:
            self.fail(
                property_,
                "Versions must be non-empty strings, for example "
                f'{{"flutter": "3.24.0"}}: check {", ".join(bad)}.',
            )

    def check_string_list(self, property_: str, value: Any, item_meaning: str) -> None:
        if contains_unknown(value) and not isinstance(value, (list, tuple)):
            return
        if isinstance(value, str):
            self.fail(
                property_,
                f"{property_} must be a list of strings, got the string {value!r}: "
                f'write ["{value}"].',
            )
            return
        if not isinstance(value, (list, tuple)):
            self.fail(property_, f"{property_} must be a list of strings, got {_describe(value)}.")
            return
        bad = [
            item
            for item in value
            if not contains_unknown(item) and (not isinstance(item, str) or not item.strip())
        ]
        if bad:
            self.fail(
                property_,
                f"Each item of {property_} must be a non-empty {item_meaning}, got "
                + ", ".join(_describe(item) for item in bad)
                + ".",
            )

    def check_labels(self) -> None:
        labels = self.inputs["labels"]
        self.check_string_list("labels", labels, "label")
        if isinstance(labels, tuple):
            self.inputs["labels"] = list(labels)

    def check_instance_type(self) -> None:
        value = self.inputs["instance_type"]
        if value is None or contains_unknown(value):
            return
        if not isinstance(value, str) or not value.strip():
            self.fail(
                "instance_type",
                "instance_type must be a machine type such as mac_mini_m2 or linux_x2, "
                f"got {_describe(value)}: set one or leave it unset to use the workflow's.",
            )

    def check_triggers(self) -> None:
        value = self.inputs["triggers"]
        if contains_unknown(value) and not isinstance(value, (list, tuple)):
            return
        if not isinstance(value, (list, tuple)):
            self.fail(
                "triggers",
                f"triggers must be a list, got {_describe(value)}: wrap the value, "
                "for example triggers=[commit_sha].",
            )
            return
        self.inputs["triggers"] = list(value)

    def check_bool(self, key: str) -> None:
        value = self.inputs[key]
        if contains_unknown(value):
            return
        if not isinstance(value, bool):
            self.fail(key, f"{key} must be true or false, got {_describe(value)}.")

    def check_number(self, key: str, low: float, high: float, unit: str) -> float | None:
        """Check that input ``key`` is a finite number in [low, high]; return it or None."""
        value = self.inputs[key]
        if contains_unknown(value):
            return None
        if not _is_number(value):
            self.fail(
                key,
                f"{key} must be a number of {unit} from {_format(low)} to {_format(high)}, "
                f"got {_describe(value)}.",
            )
            return None
        if not low <= value <= high:
            self.fail(
                key,
                f"{key} must be from {_format(low)} to {_format(high)} {unit}, "
                f"got {_format(value)}.",
            )
            return None
        return float(value)

    def check_wait_timeout(self) -> None:
        key = "wait_timeout_minutes"
        value = self.inputs[key]
        if _is_number(value) and value <= 0:
            self.fail(
                key,
                f"{key} must be greater than zero, got {_format(value)}: the default is "
                f"{DEFAULT_WAIT_TIMEOUT_MINUTES}, and wait_for_completion=false skips waiting.",
            )
            return
        self.check_number(key, 0, MAX_WAIT_TIMEOUT_MINUTES, "minutes")

    def check_poll_interval(self) -> None:
        self.check_number(
            "poll_interval_seconds", MIN_POLL_INTERVAL_SECONDS, MAX_POLL_INTERVAL_SECONDS, "seconds"
        )

    def check_success_statuses(self) -> None:
        key = "success_statuses"
        value = self.inputs[key]
        terminal = ", ".join(sorted(TERMINAL_STATUSES))
        if contains_unknown(value):
            return
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            self.fail(
                key,
                f"{key} must be a list of terminal statuses ({terminal}), got {_describe(value)}.",
            )
            return
        if not value:
            self.fail(
                key,
                f"{key} is empty, so no build could succeed: list one or more of {terminal}.",
            )
            return
        unknown = sorted({str(item) for item in value if item not in TERMINAL_STATUSES})
        if unknown:
            self.fail(
                key,
                "Unknown or non-terminal statuses "
                + ", ".join(repr(item) for item in unknown)
                + f": {key} accepts only the terminal statuses {terminal}.",
            )
            return
        self.inputs[key] = sorted(set(value))

    def check_ttl(self) -> None:
        key = "public_artefact_url_ttl_hours"
        value = self.inputs[key]
        if value is None:
            return
        checked = self.check_number(
            key, MIN_PUBLIC_URL_TTL_HOURS, MAX_PUBLIC_URL_TTL_HOURS, "hours"
        )
        if checked is None:
            return
        if not checked.is_integer():
            self.fail(key, f"{key} must be a whole number of hours, got {_format(value)}.")
            return
        self.inputs[key] = int(checked)


def _unexpected_environment_keys(environment: Mapping[str, Any], unexpected: list[str]) -> str:
    """Explain unknown environment keys, spotting a flat map of variables."""
    looks_flat = not any(key in environment for key in _ENVIRONMENT_KEYS) and all(
        isinstance(value, str) for value in environment.values()
    )
    if looks_flat:
        sample = ", ".join(f'"{key}": "{environment[key]}"' for key in unexpected[:2])
        return (
            "environment takes variables inside a `variables` map: write "
            f'{{"variables": {{{sample}}}}} instead of {{{sample}}}.'
        )
    return (
        "Unknown environment keys "
        + ", ".join(repr(key) for key in unexpected)
        + ": the allowed keys are variables, groups and software_versions."
    )


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _format(value: float) -> str:
    """Format a number without a trailing ``.0``."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _describe(value: Any) -> str:
    """Describe a bad value with its type, for messages (``the integer 3``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {_format(value)}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a value of type {type(value).__name__}"


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return _format(value)
    return str(value)
