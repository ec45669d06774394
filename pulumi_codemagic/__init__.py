"""Codemagic CI/CD builds as Pulumi resources.

* :class:`Build` starts a Codemagic build on ``pulumi up``, waits for it and exposes its status
  and artefact URLs as outputs; :class:`ArtefactFile` downloads one of those artefacts.
* :class:`CodemagicClient` is the typed client for the Codemagic REST API that both use.
* :mod:`pulumi_codemagic.emulator` (extra ``emulator``) serves the same API on loopback for
  offline demos and tests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .client import CodemagicClient
from .errors import (
    ArtefactIntegrityError,
    BadRequestError,
    BuildFailedError,
    BuildStartUncertainError,
    BuildWaitTimeoutError,
    CodemagicAPIError,
    CodemagicError,
    MissingTokenError,
    NotFoundError,
    RateLimitedError,
    RedirectRejectedError,
    RequestTimeoutError,
    ServerError,
    TokenRejectedError,
    UnexpectedResponseError,
)
from .models import (
    Application,
    Artefact,
    BuildEnvironment,
    CancelResult,
    PublicUrl,
    StartBuildRequest,
    build_page_url,
)
from .models import (
    Build as BuildInfo,
)
from .statuses import DEFAULT_SUCCESS_STATUSES, KNOWN_STATUSES, TERMINAL_STATUSES, is_terminal
from .waiting import wait_for_build

if TYPE_CHECKING:
    from .artefact_file import ArtefactFile
    from .resource import Build, BuildArtefact, BuildEnvironmentArgs

# The resources import the Pulumi SDK, which takes about a second to load. They are imported on
# first use, so that the client and the emulator start without it.
_RESOURCE_MODULES = {
    "ArtefactFile": "artefact_file",
    "Build": "resource",
    "BuildArtefact": "resource",
    "BuildEnvironmentArgs": "resource",
}


def __getattr__(name: str) -> Any:
    module_name = _RESOURCE_MODULES.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{module_name}", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_SUCCESS_STATUSES",
    "KNOWN_STATUSES",
    "TERMINAL_STATUSES",
    "Application",
    "Artefact",
    "ArtefactFile",
    "ArtefactIntegrityError",
    "BadRequestError",
    "Build",
    "BuildArtefact",
    "BuildEnvironment",
    "BuildEnvironmentArgs",
    "BuildFailedError",
    "BuildInfo",
    "BuildStartUncertainError",
    "BuildWaitTimeoutError",
    "CancelResult",
    "CodemagicAPIError",
    "CodemagicClient",
    "CodemagicError",
    "MissingTokenError",
    "NotFoundError",
    "PublicUrl",
    "RateLimitedError",
    "RedirectRejectedError",
    "RequestTimeoutError",
    "ServerError",
    "StartBuildRequest",
    "TokenRejectedError",
    "UnexpectedResponseError",
    "__version__",
    "build_page_url",
    "is_terminal",
    "wait_for_build",
]
