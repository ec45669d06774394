"""Build the Android and the iOS workflow of one app, and rebuild both when the version changes.

Configuration (``pulumi config set KEY VALUE``):

* ``appId`` (required): the Codemagic application id.
* ``version`` (required): the release version, such as ``1.4.2``. It is passed to both builds
  as ``APP_VERSION`` and is their trigger, so a new version starts two new builds.
* ``branch``: the branch to build; ``main`` by default.
* ``codemagic:token`` (secret) and, for the emulator, ``codemagic:apiUrl``.
"""

import pulumi

from pulumi_codemagic import Build, BuildEnvironmentArgs

config = pulumi.Config()
app_id = config.require("appId")
version = config.require("version")
branch = config.get("branch") or "main"

PLATFORMS = {
    "android": "android-release",
    "ios": "ios-release",
}

for platform, workflow_id in PLATFORMS.items():
    build = Build(
        platform,
        app_id=app_id,
        workflow_id=workflow_id,
        branch=branch,
        environment=BuildEnvironmentArgs(variables={"APP_VERSION": version}),
        labels=[f"v{version}"],
        triggers=[version],
        poll_interval_seconds=config.get_float("pollIntervalSeconds") or 30,
    )
    pulumi.export(f"{platform}Status", build.status)
    pulumi.export(f"{platform}BuildUrl", build.build_url)
    pulumi.export(f"{platform}ArtefactUrls", build.artefact_urls)
