"""Start one Codemagic build and export what a later stack needs from it.

Configuration (``pulumi config set KEY VALUE``):

* ``appId`` (required): the Codemagic application id, as in the app's URL.
* ``workflowId``: the workflow key in codemagic.yaml; ``android-release`` by default.
* ``branch``: the branch to build; ``main`` by default.
* ``codemagic:token`` (secret) and, for the emulator, ``codemagic:apiUrl``.
"""

import pulumi

from pulumi_codemagic import Build, BuildEnvironmentArgs

config = pulumi.Config()

build = Build(
    "app",
    app_id=config.require("appId"),
    workflow_id=config.get("workflowId") or "android-release",
    branch=config.get("branch") or "main",
    environment=BuildEnvironmentArgs(variables={"BUILD_FLAVOR": "production"}),
    labels=["pulumi"],
    poll_interval_seconds=config.get_float("pollIntervalSeconds") or 30,
)

pulumi.export("buildId", build.build_id)
pulumi.export("buildNumber", build.build_number)
pulumi.export("status", build.status)
pulumi.export("buildUrl", build.build_url)
pulumi.export("artefacts", build.artefacts)
pulumi.export("artefactUrls", build.artefact_urls)
