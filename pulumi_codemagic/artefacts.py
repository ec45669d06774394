"""Download a build artefact to a file, safely.

Used by :meth:`pulumi_codemagic.client.CodemagicClient.download_artefact`, which supplies the
HTTP requests. This module decides what to do with the replies:

* Redirects are followed by hand, at most :data:`MAX_REDIRECTS` times. The API token is dropped
  as soon as a redirect leaves the origin (scheme, host and port) of the artefact URL, and is
  not sent again on later hops. A redirect from https to http is rejected.
* The body is written to a temporary file next to the destination. Only after the status, the
  size and the md5 checksum match is that file renamed to the destination, so an error page or
  a cut-off transfer never ends up under the artefact's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import requests

from .errors import ArtefactIntegrityError, RedirectRejectedError, UnexpectedResponseError
from .models import Artefact

__all__ = ["MAX_REDIRECTS", "download_artefact", "origin_of", "resolve_destination"]

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
"""Largest number of redirects followed for one download."""

CHUNK_BYTES = 1024 * 1024
"""Size of the pieces read from the network and written to disk, in bytes."""

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Fetch(Protocol):
    """Send one ``GET`` without following redirects and return a streamed 2xx or 3xx reply.

    Raises the library's errors for 4xx and 5xx replies.
    """

    def __call__(self, url: str, *, send_token: bool) -> requests.Response: ...


def origin_of(url: str) -> tuple[str, str, int | None]:
    """Return the origin of ``url``: lower-case scheme and host, and the port (default filled)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port
    if port is None:
        port = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def display_url(url: str) -> str:
    """Return ``url`` without its query string and fragment, which can carry signatures."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def resolve_destination(destination: Path, artefact_name: str) -> Path:
    """Return the file to write: ``destination`` itself, or the artefact's name inside it.

    When ``destination`` is an existing directory the artefact's own file name is used, with
    any directory part removed so that a name such as ``../x`` cannot escape the directory.
    """
    if not destination.is_dir():
        return destination
    name = Path(artefact_name.replace("\\", "/")).name
    if name in ("", ".", ".."):
        raise ValueError(
            f"the artefact name {artefact_name!r} is not a usable file name; "
            "pass a file path as the destination instead of a directory"
        )
    return destination / name


def download_artefact(
    fetch: Fetch,
    *,
    artefact: Artefact,
    destination: Path,
    api_origin: tuple[str, str, int | None],
    max_redirects: int = MAX_REDIRECTS,
) -> Path:
    """Download ``artefact`` to ``destination`` and return the path of the written file.

    Args:
        fetch: Sends one request; see :class:`Fetch`.
        artefact: The artefact, with its ``url`` and, when known, ``md5`` and ``size``.
        destination: A file path, or an existing directory to put the file in.
        api_origin: Origin of the Codemagic API. The token goes only to this origin.
        max_redirects: Largest number of redirects to follow. Default 5.
    """
    target = resolve_destination(destination, artefact.name)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the destination directory {target.parent} does not exist")

    response = _follow_redirects(
        fetch,
        artefact.url,
        send_token=origin_of(artefact.url) == api_origin,
        max_redirects=max_redirects,
    )
    with response:
        if response.status_code != 200:
            raise UnexpectedResponseError(
                f"GET {display_url(response.url or artefact.url)} returned HTTP "
                f"{response.status_code} instead of the file. Try the download again.",
                method="GET",
                path=urlsplit(response.url or artefact.url).path,
                status=response.status_code,
            )
        _write_verified(response, artefact, target)

    logger.info("Downloaded artefact %s to %s", artefact.name, target)
    return target


def _follow_redirects(
    fetch: Fetch, url: str, *, send_token: bool, max_redirects: int
) -> requests.Response:
    for hop in range(max_redirects + 1):
        response = fetch(url, send_token=send_token)
        if response.status_code not in _REDIRECT_STATUSES:
            return response

        location = response.headers.get("Location")
        response.close()
        status = response.status_code
        path = urlsplit(url).path
        if not location:
            raise UnexpectedResponseError(
                f"GET {display_url(url)} returned HTTP {status} without a Location header. "
                "Try the download again.",
                method="GET",
                path=path,
                status=status,
            )
        if hop == max_redirects:
            raise RedirectRejectedError(
                f"GET {display_url(url)} was redirected more than {max_redirects} times, so the "
                "download was stopped. The artefact URL may be wrong or the storage service "
                "may be misbehaving; try again later.",
                method="GET",
                path=path,
                status=status,
            )

        next_url = urljoin(url, location)
        next_scheme = urlsplit(next_url).scheme.lower()
        if next_scheme not in ("http", "https"):
            raise RedirectRejectedError(
                f"GET {display_url(url)} redirected to a {next_scheme or 'relative'} URL, which "
                "cannot be downloaded. Download the artefact from the Codemagic build page.",
                method="GET",
                path=path,
                status=status,
            )
        if urlsplit(url).scheme.lower() == "https" and next_scheme == "http":
            raise RedirectRejectedError(
                f"GET {display_url(url)} redirected from https to the unencrypted URL "
                f"{display_url(next_url)}, so the download was stopped. Download the artefact "
                "from the Codemagic build page.",
                method="GET",
                path=path,
                status=status,
            )

        if send_token and origin_of(next_url) != origin_of(url):
            logger.debug("Dropping the API token for the redirect to %s", display_url(next_url))
            send_token = False
        logger.debug("Following HTTP %d redirect to %s", status, display_url(next_url))
        url = next_url

    raise AssertionError("unreachable: the loop returns or raises")


def _write_verified(response: requests.Response, artefact: Artefact, target: Path) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    received = 0

    handle, temporary_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    temporary = Path(temporary_name)
    completed = False
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                file.write(chunk)
                digest.update(chunk)
                received += len(chunk)

        actual_md5 = digest.hexdigest()
        size_matches = artefact.size is None or artefact.size == received
        md5_matches = artefact.md5 is None or artefact.md5.lower() == actual_md5
        if not (size_matches and md5_matches):
            raise ArtefactIntegrityError(
                artefact.name,
                expected_md5=artefact.md5,
                actual_md5=actual_md5,
                expected_size=artefact.size,
                actual_size=received,
            )

        os.replace(temporary, target)
        completed = True
    finally:
        if not completed:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
