"""Deploy one Build and export every output, plus the Python type of each inside the program.

The stack config ``build`` is a JSON object of keyword arguments for ``Build``. Its
``environment`` entry becomes a ``BuildEnvironmentArgs`` unless ``environmentAsDict`` is true.
With ``dependent`` true, a second Build takes the first one's id as a variable and a trigger,
so its inputs are unknown during the first preview.
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

if config.get_bool("dependent"):
    dependent = Build(
        "dependent",
        app_id=build.app_id,
        workflow_id="android-release",
        branch="main",
        environment={"variables": {"PARENT_BUILD": build.build_id}},
        triggers=[build.build_id],
        wait_for_completion=False,
    )
    pulumi.export("dependent_build_id", dependent.build_id)

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


def type_name(value: Any) -> str:
    return type(value).__name__


def artefact_type_names(artefacts: list[Any]) -> list[str]:
    """Name each artefact's type and the type of its size, such as "BuildArtefact/int"."""
    return [f"{type_name(artefact)}/{type_name(artefact['size'])}" for artefact in artefacts]


# Each type is taken inside its own apply: Output.all would turn the artefacts into plain dicts.
program_types = {name: getattr(build, name).apply(type_name) for name in OUTPUT_NAMES}
program_types["artefact_items"] = build.artefacts.apply(artefact_type_names)
pulumi.export("program_types", pulumi.Output.all(**program_types))
