"""Helpers for running Pulumi projects under the real engine through the Automation API.

The fixtures in ``conftest.py`` beside this file build on these; tests mostly need only
``EngineOutput`` from here, to search what the engine printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pulumi import automation as auto

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECTS_DIR = Path(__file__).resolve().parent / "projects"
"""Pulumi projects that the e2e tests deploy, one folder each."""
VERSIONS_FILE = REPO_ROOT / "engine" / "versions.env"
ENGINE_EXECUTABLES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
)
HOW_TO_GET_ENGINE = (
    "Run `make engine` once and put the folder it writes to .venv/pulumi-bin-dir first on PATH, "
    "or run the whole suite with `make test`, which does both."
)
PASSPHRASE = "e2e-test-passphrase"
"""Passphrase of every test stack's secrets provider; the stacks live in a temporary backend."""


class ProjectStackFactory(Protocol):
    """Signature of the ``project_stack`` fixture's value."""

    def __call__(
        self,
        project_dir: Path,
        *,
        config: Mapping[str, str] | None = None,
        secret_config: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        stack_name: str | None = None,
    ) -> auto.Stack: ...


class EngineMissingError(Exception):
    """No usable Pulumi engine is on PATH; the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Engine:
    """A Pulumi engine found on PATH."""

    pulumi: Path
    """Absolute path of the `pulumi` executable."""
    version: tuple[int, ...]
    """Version that `pulumi version` printed, as numbers."""


class EngineOutput:
    """Collector for the engine's output lines; pass it as ``on_output`` to a stack operation.

    One collector may gather several operations; ``text`` joins every line received so far.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        """All lines received so far, joined with newlines."""
        return "\n".join(self.lines)

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text

    def search(self, pattern: str) -> re.Match[str] | None:
        """Return the first match of the regular expression `pattern` in ``text``, or None."""
        return re.search(pattern, self.text)

    def clear(self) -> None:
        """Drop the lines collected so far, to search the next operation's output alone."""
        self.lines.clear()


def parse_version(text: str) -> tuple[int, ...]:
    """Parse the numeric part of a version such as "v3.274.0" or "3.274.0-dev.0"."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", text.strip())
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group(1).split("."))


def read_pinned_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Read the KEY=value lines of engine/versions.env, which scripts/install-pulumi.sh sources."""
    versions: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            versions[key.strip()] = value.strip()
    return versions


def find_engine() -> Engine:
    """Find a Pulumi engine on PATH that can run Python programs and dynamic providers.

    Raises ``EngineMissingError`` when `pulumi` is missing, older than PULUMI_MIN_VERSION of
    engine/versions.env, or lacks the Python language host or dynamic provider plugin. The engine
    looks for plugins next to `pulumi` and on PATH, and so does this check.
    """
    minimum_text = read_pinned_versions()["PULUMI_MIN_VERSION"]
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise EngineMissingError(f"`pulumi` is not on PATH. {HOW_TO_GET_ENGINE}")

    completed = subprocess.run(
        [pulumi, "version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    )
    try:
        version = parse_version(completed.stdout)
    except ValueError:
        raise EngineMissingError(
            f"`{pulumi} version` printed no version (exit code {completed.returncode}, "
            f"stderr {completed.stderr.strip()!r}). {HOW_TO_GET_ENGINE}"
        ) from None
    if version < parse_version(minimum_text):
        raise EngineMissingError(
            f"{pulumi} is version {completed.stdout.strip()}, older than the minimum "
            f"{minimum_text}. {HOW_TO_GET_ENGINE}"
        )

    pulumi_dir = Path(pulumi).resolve().parent
    missing = [
        name
        for name in ENGINE_EXECUTABLES[1:]
        if not (pulumi_dir / name).is_file() and shutil.which(name) is None
    ]
    if missing:
        raise EngineMissingError(
            f"{', '.join(missing)} not found next to {pulumi} or on PATH. {HOW_TO_GET_ENGINE}"
        )
    return Engine(pulumi=Path(pulumi), version=version)


def unique_stack_name(label: str) -> str:
    """Return a stack name made of `label` (reduced to allowed characters) and a random suffix."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.")[:60] or "stack"
    return f"{cleaned}-{uuid.uuid4().hex[:8]}"


def engine_environment(
    *, backend_dir: Path, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the variables every engine call gets, on top of the test process's environment.

    The program and the dynamic provider plugin run with the interpreter of this test process
    (PULUMI_PYTHON_CMD), so they import the same `pulumi` and `pulumi_codemagic` as the tests.
    """
    env = {
        "PULUMI_BACKEND_URL": backend_dir.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    env.update(extra_env or {})
    return env


def copy_project(project_dir: Path, destination: Path) -> Path:
    """Copy a Pulumi project folder to `destination`, without caches and stack settings files."""
    if not (project_dir / "Pulumi.yaml").is_file():
        raise FileNotFoundError(f"{project_dir} has no Pulumi.yaml")
    shutil.copytree(
        project_dir,
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "Pulumi.*.yaml"),
    )
    return destination


def set_stack_config(
    stack: auto.Stack,
    *,
    config: Mapping[str, str] | None = None,
    secret_config: Mapping[str, str] | None = None,
) -> None:
    """Set plain and secret config values; a key without a namespace gets the project's name."""
    values = {key: auto.ConfigValue(value=value) for key, value in (config or {}).items()}
    for key, value in (secret_config or {}).items():
        values[key] = auto.ConfigValue(value=value, secret=True)
    if values:
        stack.set_all_config(values)


def remove_stack(stack: auto.Stack, output: EngineOutput) -> list[Exception]:
    """Destroy and remove `stack`, trying both steps; return the errors met, first one first."""
    errors: list[Exception] = []
    try:
        stack.destroy(on_output=output, color="never")
    except Exception as error:  # returned, so that the stack is still removed
        errors.append(error)
    try:
        stack.workspace.remove_stack(stack.name, force=True)
    except Exception as error:
        errors.append(error)
    return errors
