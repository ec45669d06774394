"""Turn a Codemagic build into the JSON-safe outputs of a ``Build`` resource.

The engine serializes outputs with protobuf's ``Struct``, which holds only strings, numbers,
booleans, lists, maps and null. A ``datetime`` left in the outputs makes the engine fail after
the build has started, so timestamps become ISO 8601 strings here and
:func:`require_json_safe` checks the result before it leaves the provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .models import Artefact, Build

__all__ = [
    "BUILD_OUTPUT_PROPERTIES",
    "artefact_outputs",
    "build_outputs",
    "isoformat",
    "require_json_safe",
]

logger = logging.getLogger(__name__)

BUILD_OUTPUT_PROPERTIES: tuple[str, ...] = (
    "build_id",
    "status",
    "build_number",
    "build_url",
    "message",
    "started_at",
    "finished_at",
    "artefacts",
    "artefact_urls",
)
"""Outputs that :func:`build_outputs` fills from a build and that a refresh updates."""


def isoformat(value: datetime | None) -> str | None:
    """Format an aware timestamp as ISO 8601 in UTC (``2024-05-01T10:00:00.123000+00:00``)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def artefact_outputs(artefact: Artefact) -> dict[str, Any]:
    """Return one artefact as a map with the keys documented on ``Build.artefacts``."""
    return {
        "name": artefact.name,
        "type": artefact.type,
        "url": artefact.url,
        "md5": artefact.md5,
        "size": artefact.size,
        "version_name": artefact.version_name,
        "package_name": artefact.package_name,
    }


def build_outputs(build: Build) -> dict[str, Any]:
    """Return the outputs of :data:`BUILD_OUTPUT_PROPERTIES` for ``build``."""
    artefacts = [artefact_outputs(artefact) for artefact in build.artefacts]
    outputs = {
        "build_id": build.id,
        "status": build.status,
        "build_number": build.index,
        "build_url": build.page_url,
        "message": build.message,
        "started_at": isoformat(build.started_at),
        "finished_at": isoformat(build.finished_at),
        "artefacts": artefacts,
        "artefact_urls": _urls_by_name(build.id, build.artefacts),
    }
    require_json_safe(outputs)
    return outputs


def _urls_by_name(build_id: str, artefacts: list[Artefact]) -> dict[str, str]:
    """Map each artefact name to its URL; the first of two artefacts with one name wins."""
    urls: dict[str, str] = {}
    for artefact in artefacts:
        if artefact.name in urls:
            logger.warning(
                "Build %s has more than one artefact named %s; artefact_urls keeps the first, "
                "and the artefacts output lists all of them",
                build_id,
                artefact.name,
            )
            continue
        urls[artefact.name] = artefact.url
    return urls


def require_json_safe(value: Any, path: str = "outputs") -> None:
    """Raise ``TypeError`` naming the first value that protobuf's ``Struct`` cannot hold.

    Accepts ``None``, ``str``, ``bool``, ``int``, ``float``, lists and maps with string keys,
    nested to any depth.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has the non-string key {key!r}")
            require_json_safe(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            require_json_safe(item, f"{path}[{index}]")
        return
    raise TypeError(
        f"{path} is a {type(value).__name__}, which Pulumi outputs cannot hold; "
        "convert it to a string, number, boolean, list or map"
    )
