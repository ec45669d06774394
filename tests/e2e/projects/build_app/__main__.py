"""Deploy one Build and export every output, plus the Python type of each as the program sees it.

The stack config ``build`` is a JSON object of keyword arguments for ``Build``. Its
``environment`` entry becomes a ``BuildEnvironmentArgs`` unless ``environmentAsDict`` is true.
"""

import json
from typing import Any

import pulumi

from pulumi_codemagic.resource import Build, BuildEnvironmentArgs

config = pulumi.Config()
arguments: dict[str, Any] = json.loads(config.require("build"))
environment = arguments.pop("environment", None)
if environment is not None and not config.get_bool("environmentAsDict"):
    environment = BuildEnvironmentArgs(**environment)

build = Build("app", environment=environment, **arguments)

OUTPUT_NAMES = (
    "build_id",
    "status",
    "build_number",
    "build_url",
    "message",
    "started_at",
    "finished_at",
    "artefacts",
    "artefact_urls",
    "public_artefact_urls",
    "public_artefact_urls_expire_at",
    "app_id",
    "workflow_id",
    "branch",
    "tag",
    "environment",
    "labels",
    "instance_type",
    "triggers",
    "wait_for_completion",
    "wait_timeout_minutes",
    "poll_interval_seconds",
    "success_statuses",
    "cancel_on_delete",
    "public_artefact_url_ttl_hours",
)

for name in OUTPUT_NAMES:
    pulumi.export(name, getattr(build, name))


def describe_types(values: dict[str, Any]) -> dict[str, Any]:
    """Name the Python type of each output, and of each artefact's size."""
    types: dict[str, Any] = {name: type(value).__name__ for name, value in values.items()}
    types["artefact_types"] = [type(artefact).__name__ for artefact in values["artefacts"]]
    types["artefact_size_types"] = [
        type(artefact["size"]).__name__ for artefact in values["artefacts"]
    ]
    return types


pulumi.export(
    "program_types",
    pulumi.Output.all(**{name: getattr(build, name) for name in OUTPUT_NAMES}).apply(
        describe_types
    ),
)
