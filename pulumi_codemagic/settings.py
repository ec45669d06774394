"""The Codemagic settings a dynamic provider reads from the stack configuration.

Both providers (:mod:`pulumi_codemagic.provider` and :mod:`pulumi_codemagic.artefact_file`) keep
one :class:`ApiSettings` per provider process. The settings never enter a pickled provider, so
the token cannot reach the stack state through it.
"""

from __future__ import annotations

import threading
from typing import Any

from pulumi.dynamic import ConfigureRequest

__all__ = ["API_URL_CONFIG_KEY", "TOKEN_CONFIG_KEY", "ApiSettings"]

TOKEN_CONFIG_KEY = "codemagic:token"
"""Stack setting with the API token; set it with ``pulumi config set --secret``."""

API_URL_CONFIG_KEY = "codemagic:apiUrl"
"""Stack setting with the API base URL, such as a local emulator's address."""


class ApiSettings:
    """Token and API URL from the stack configuration, shared by a provider's worker threads.

    Either value is None when the stack does not set it; the client then falls back to the
    environment (``CODEMAGIC_API_TOKEN``, ``CM_API_TOKEN``, ``CODEMAGIC_API_URL``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._api_url: str | None = None

    def __repr__(self) -> str:
        token = "from stack config" if self._token else "from the environment"
        return f"ApiSettings(token={token}, api_url={self._api_url!r})"

    def configure(self, req: ConfigureRequest) -> None:
        """Store ``codemagic:token`` and ``codemagic:apiUrl``; blank values count as unset."""
        token = _config_string(req.config.get(TOKEN_CONFIG_KEY))
        api_url = _config_string(req.config.get(API_URL_CONFIG_KEY))
        with self._lock:
            self._token = token
            self._api_url = api_url

    def values(self) -> tuple[str | None, str | None]:
        """Return the token and the API URL, each None when the stack does not set it."""
        with self._lock:
            return self._token, self._api_url


def _config_string(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
