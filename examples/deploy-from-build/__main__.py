"""Publish an artefact of a build stack to a local folder.

The build stack (``examples/build-and-export``) exports ``artefacts``. This stack reads them
through a ``StackReference``, picks the first artefact of the wanted type, downloads it with the
API token, checks its md5 and size, and writes it to the publish folder.

Configuration (``pulumi config set KEY VALUE``):

* ``buildStack`` (required): the build stack's name, such as ``organization/build-and-export/dev``.
* ``artefactType``: the artefact type to publish; ``apk`` by default.
* ``publishDir``: the folder to publish to; ``published`` (under this project) by default.
* ``codemagic:token`` (secret) and, for the emulator, ``codemagic:apiUrl``.
"""

import os
from typing import Any

import pulumi

from pulumi_codemagic import ArtefactFile

config = pulumi.Config()
artefact_type = config.get("artefactType") or "apk"
publish_dir = os.path.abspath(config.get("publishDir") or "published")

build_stack = pulumi.StackReference(config.require("buildStack"))


def pick_artefact(artefacts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the first artefact of the configured type; fail the program if there is none."""
    for artefact in artefacts:
        if artefact.get("type") == artefact_type:
            return artefact
    found = sorted({str(artefact.get("type")) for artefact in artefacts})
    raise ValueError(
        f"The build stack has no {artefact_type!r} artefact (types found: {found}). "
        "Set artefactType to one of them."
    )


artefact = build_stack.require_output("artefacts").apply(pick_artefact)

published = ArtefactFile(
    "published-artefact",
    url=artefact.apply(lambda item: item["url"]),
    md5=artefact.apply(lambda item: item.get("md5")),
    size=artefact.apply(lambda item: item.get("size")),
    path=artefact.apply(lambda item: os.path.join(publish_dir, item["name"])),
)

pulumi.export("buildUrl", build_stack.require_output("buildUrl"))
pulumi.export("publishedPath", published.path)
pulumi.export("publishedMd5", published.md5)
pulumi.export("publishedSize", published.size)
