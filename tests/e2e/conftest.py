"""Fixtures for tests that run Pulumi projects under the real engine.

Every test in this folder gets the ``e2e`` marker. The tests need `pulumi`, the Python language
host and the dynamic provider plugin on PATH (`make test` builds them and puts them there). Without
them the tests are skipped, or fail when the CI variable is set, so that CI cannot pass while
running no engine test.

Typical use, with a project folder holding Pulumi.yaml and __main__.py (PROJECTS_DIR comes from
engine_harness, beside this file):

    def test_echo(project_stack, engine_output):
        stack = project_stack(PROJECTS_DIR / "echo", secret_config={"secret": "s"})
        result = stack.up(on_output=engine_output, color="never")
        assert result.outputs["text"].value == "hello"
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from engine_harness import (
    PROJECTS_DIR,
    Engine,
    EngineMissingError,
    EngineOutput,
    ProjectStackFactory,
    copy_project,
    engine_environment,
    find_engine,
    remove_stack,
    set_stack_config,
    unique_stack_name,
)
from pulumi import automation as auto

# Tests should import these from engine_harness; conftest re-exports them for older imports.
__all__ = ["PROJECTS_DIR", "ProjectStackFactory"]

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as ``e2e``."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


@pytest.fixture(scope="session")
def pulumi_engine() -> Engine:
    """The Pulumi engine on PATH; skips the test without one, or fails it when CI is set."""
    try:
        return find_engine()
    except EngineMissingError as error:
        missing = str(error)
    # Outside the except block, so that the report shows this message alone.
    if _running_in_ci():
        pytest.fail(f"CI is set, so the Pulumi engine is required: {missing}", pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="session")
def pulumi_backend_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of the local file backend that every test stack of the session shares.

    Sharing it lets one test stack read another through a StackReference, whose name in this
    backend is ``organization/<project>/<stack>``.
    """
    return tmp_path_factory.mktemp("pulumi-backend")


@pytest.fixture(scope="session")
def pulumi_home_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PULUMI_HOME of every engine call, so that tests never read or write ~/.pulumi."""
    return tmp_path_factory.mktemp("pulumi-home")


@pytest.fixture
def engine_output() -> EngineOutput:
    """A fresh collector to pass as ``on_output=`` to ``up``, ``refresh``, ``destroy``."""
    return EngineOutput()


@pytest.fixture
def project_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pulumi_engine: Engine,
    pulumi_backend_dir: Path,
    pulumi_home_dir: Path,
) -> Iterator[ProjectStackFactory]:
    """Factory that creates a new stack of a Pulumi project on disk, for the real engine.

    ``project_stack(project_dir, *, config=None, secret_config=None, env=None, stack_name=None)``

    - ``project_dir``: folder with Pulumi.yaml (``runtime: python``) and the program. It is copied
      to a temporary folder first, so stack settings files never land in the repository. The
      program runs through the Python language host, with the interpreter of this test process.
    - ``config`` / ``secret_config``: stack config values; a key without a ``namespace:`` prefix
      belongs to the project. Secret values are encrypted with the passphrase provider.
    - ``env``: extra environment variables for every engine call of this stack, which the
      program and the dynamic provider plugin inherit (for example the emulator's URL and token).
    - ``stack_name``: defaults to the test's name plus a random suffix; names are unique in the
      session's shared backend.

    Returns an ``auto.Stack`` that has not been deployed yet. At teardown, every stack the factory
    created is destroyed and removed, newest first, even when the test failed. A failed destroy
    is raised after the stack is removed, so it shows as a teardown error.
    """
    created: list[auto.Stack] = []
    teardown_output = EngineOutput()

    def make_stack(
        project_dir: Path,
        *,
        config: Mapping[str, str] | None = None,
        secret_config: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        stack_name: str | None = None,
    ) -> auto.Stack:
        work_dir = copy_project(
            Path(project_dir), tmp_path / f"project-{len(created)}-{Path(project_dir).name}"
        )
        workspace_options = auto.LocalWorkspaceOptions(
            pulumi_home=str(pulumi_home_dir),
            env_vars=engine_environment(backend_dir=pulumi_backend_dir, extra_env=env),
            secrets_provider="passphrase",
        )
        stack = auto.create_stack(
            stack_name or unique_stack_name(request.node.name),
            work_dir=str(work_dir),
            opts=workspace_options,
        )
        created.append(stack)
        set_stack_config(stack, config=config, secret_config=secret_config)
        return stack

    yield make_stack

    errors: list[Exception] = []
    for stack in reversed(created):
        errors.extend(remove_stack(stack, teardown_output))
    if errors:
        raise errors[0]
