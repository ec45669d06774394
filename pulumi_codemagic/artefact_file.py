"""The ``ArtefactFile`` resource: a build artefact downloaded to a local file.

A later stack uses it to take an artefact that a :class:`~pulumi_codemagic.Build` produced
(read through ``pulumi.StackReference``), download it with the API token, check its md5 and
size, and place it where a deployment step expects it. ``pulumi destroy`` removes the file.

The provider follows the same rules as the build provider: it lives in this importable module,
its pickled form contains no token, and it makes a new client in each call.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
)

from .client import CodemagicClient
from .models import Artefact
from .provider import PROVIDER_KEY
from .settings import ApiSettings

__all__ = ["ArtefactFile", "ArtefactFileProvider"]

logger = logging.getLogger(__name__)

_MD5_PATTERN = re.compile(r"^[0-9a-f]{32}$")
_REPLACE_PROPERTIES = ("url", "md5", "size", "path")


class ArtefactFileProvider(ResourceProvider):
    """Download, check and remove one artefact file for the ``ArtefactFile`` dynamic resource."""

    def __init__(self) -> None:
        super().__init__()
        self._settings = ApiSettings()

    def __getstate__(self) -> dict[str, Any]:
        # Only a format marker: whatever configure() stored stays out of the stack state.
        return {"state_format": 1}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        """Keep ``codemagic:token`` and ``codemagic:apiUrl`` from the stack configuration.

        Without them the client falls back to ``CODEMAGIC_API_TOKEN``, ``CM_API_TOKEN`` and
        ``CODEMAGIC_API_URL``.
        """
        self._settings.configure(req)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the inputs without any HTTP call; one failure per bad property."""
        failures: list[CheckFailure] = []
        url = news.get("url")
        if isinstance(url, str) and urlsplit(url).scheme not in ("http", "https"):
            failures.append(
                CheckFailure("url", f"url must be an http or https address, got {url!r}.")
            )
        path = news.get("path")
        if isinstance(path, str) and not os.path.isabs(path):
            failures.append(
                CheckFailure("path", f"path must be an absolute file path, got {path!r}.")
            )
        md5 = news.get("md5")
        if isinstance(md5, str) and not _MD5_PATTERN.match(md5):
            failures.append(
                CheckFailure("md5", f"md5 must be 32 lowercase hex digits, got {md5!r}.")
            )
        size = news.get("size")
        if size is not None and isinstance(size, (int, float)) and size < 0:
            failures.append(CheckFailure("size", f"size must be 0 or more bytes, got {size}."))
        return CheckResult(news, failures)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Replace the file when the artefact or the path changes.

        An omitted ``md5`` or ``size`` accepts whatever file is there. The old file is deleted
        before the new one is written, because both may share a path.
        """
        replaces = [key for key in _REPLACE_PROPERTIES if _changed(key, _olds, _news)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Download the artefact to ``path``; the file appears only once md5 and size match."""
        path = Path(props["path"])
        artefact = Artefact(
            name=path.name,
            url=props["url"],
            md5=props.get("md5"),
            size=_optional_int(props.get("size")),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._client() as client:
            client.download_artefact(artefact, path)

        logger.info("Downloaded %s to %s", artefact.url, path)
        return CreateResult(str(path), _outputs(props, path))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Read the file again; a missing file leaves the state, so the next up downloads it."""
        path = Path(id_)
        if not path.is_file():
            logger.info("Artefact file %s is gone; removing it from the state", path)
            return ReadResult(None, {})
        return ReadResult(id_, _outputs(props, path))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Remove the file; a file that is already gone is no error."""
        path = Path(_id)
        path.unlink(missing_ok=True)
        logger.info("Removed artefact file %s", path)

    def _client(self) -> CodemagicClient:
        token, api_url = self._settings.values()
        return CodemagicClient(token=token, base_url=api_url)


class ArtefactFile(pulumi.dynamic.Resource, module="codemagic", name="ArtefactFile"):
    """A build artefact downloaded to a local file, checked against its md5 and size.

    Creating the resource downloads the file with the API token (``codemagic:token``, then
    ``CODEMAGIC_API_TOKEN`` or ``CM_API_TOKEN``). A change of any input replaces the file.
    ``pulumi refresh`` drops the resource when the file was removed by hand, and
    ``pulumi destroy`` deletes the file.
    """

    path: pulumi.Output[str]
    """Absolute path of the downloaded file; also the resource id."""

    url: pulumi.Output[str]
    """Address the file was downloaded from."""

    md5: pulumi.Output[str]
    """MD5 checksum of the file on disk, as 32 hex digits."""

    size: pulumi.Output[int]
    """Size of the file on disk, in bytes."""

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        path: pulumi.Input[str],
        md5: pulumi.Input[str] | None = None,
        size: pulumi.Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an artefact file.

        :param resource_name: Pulumi name of the resource.
        :param url: The artefact's ``url`` from a build's ``artefacts`` output.
        :param path: Where to put the file. A relative path is taken from the program's working
            directory, made absolute here because the provider runs in another process.
        :param md5: Expected MD5 checksum; the download fails on a mismatch. Not checked when
            omitted.
        :param size: Expected size in bytes; the download fails on a mismatch. Not checked when
            omitted.
        :param opts: Resource options.
        """
        props: dict[str, Any] = {
            "url": url,
            "path": pulumi.Output.from_input(path).apply(os.path.abspath),
            "md5": md5,
            "size": size,
        }
        super().__init__(ArtefactFileProvider(), resource_name, props, opts)


def _outputs(props: Mapping[str, Any], path: Path) -> dict[str, Any]:
    outputs = {key: value for key, value in props.items() if key != PROVIDER_KEY}
    outputs["path"] = str(path)
    outputs["md5"] = _file_md5(path)
    outputs["size"] = path.stat().st_size
    return outputs


def _changed(key: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    new = news.get(key)
    if new is None and key in ("md5", "size"):
        return False
    return bool(olds.get(key) != new)


def _file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
