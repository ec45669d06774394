"""Run the examples against the local Codemagic emulator: `make demo`.

The script starts the emulator on a free loopback port and runs `pulumi up` on
examples/build-and-export, then on examples/deploy-from-build, which reads the first stack
through a StackReference. It prints the artefact URLs and the published file, then destroys both
stacks and stops the emulator. Everything the engine writes (file backend, PULUMI_HOME, the
copied projects, the published file) lives in a temporary folder that is removed at the end,
also after a failure or Ctrl-C.

Needs `pulumi` on PATH (`make demo` puts the engine that `make engine` built there) and the
package installed with its `emulator` extra.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from pulumi_codemagic.emulator import SAMPLE_APP_ID, run_emulator

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO_ROOT / "examples"
STACK_NAME = "demo"
PASSPHRASE = "demo-passphrase"
PHASE_SECONDS = 1.0
"""Seconds the emulated build spends in each status; a demo build takes about 10 seconds."""


def main() -> int:
    """Run the demo and return the process exit code."""
    if shutil.which("pulumi") is None:
        print("pulumi is not on PATH: run `make demo`, which builds and adds it.", file=sys.stderr)
        return 1

    with ExitStack() as cleanup:
        work_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="cm-demo-")))
        emulator = cleanup.enter_context(run_emulator(phase_seconds=PHASE_SECONDS))
        print(f"==> Codemagic emulator listening on {emulator.base_url}")

        env = _engine_environment(work_dir)
        config = {
            "codemagic:apiUrl": auto.ConfigValue(emulator.base_url),
            "codemagic:token": auto.ConfigValue(emulator.token, secret=True),
        }

        print("==> pulumi up: examples/build-and-export")
        build_stack = cleanup.enter_context(
            _stack("build-and-export", work_dir, env, _say("build-and-export"))
        )
        build_stack.set_all_config(
            {
                **config,
                "build-and-export:appId": auto.ConfigValue(SAMPLE_APP_ID),
                "build-and-export:pollIntervalSeconds": auto.ConfigValue("2"),
            }
        )
        build_outputs = build_stack.up(on_output=_say("build-and-export"), color="never").outputs

        print("==> pulumi up: examples/deploy-from-build")
        deploy_stack = cleanup.enter_context(
            _stack("deploy-from-build", work_dir, env, _say("deploy-from-build"))
        )
        deploy_stack.set_all_config(
            {
                **config,
                "deploy-from-build:buildStack": auto.ConfigValue(
                    f"organization/build-and-export/{STACK_NAME}"
                ),
                "deploy-from-build:publishDir": auto.ConfigValue(str(work_dir / "published")),
            }
        )
        deploy_outputs = deploy_stack.up(on_output=_say("deploy-from-build"), color="never").outputs

        _print_summary(build_outputs, deploy_outputs)
        print("==> Destroying the stacks and stopping the emulator")
    print("==> Done")
    return 0


def _engine_environment(work_dir: Path) -> dict[str, str]:
    """Return the variables that keep the engine's state in `work_dir` and offline."""
    backend = work_dir / "backend"
    backend.mkdir()
    return {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_HOME": str(work_dir / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # The program and the dynamic providers run with this interpreter, which has
        # pulumi-codemagic installed.
        "PULUMI_PYTHON_CMD": sys.executable,
    }


@contextmanager
def _stack(
    example: str, work_dir: Path, env: dict[str, str], on_output: Callable[[str], None]
) -> Iterator[auto.Stack]:
    """Create the demo stack of a copy of `example`; destroy and remove it on exit."""
    project_dir = work_dir / example
    shutil.copytree(EXAMPLES_DIR / example, project_dir, ignore=_ignore_local_files)
    stack = auto.create_stack(
        STACK_NAME,
        work_dir=str(project_dir),
        opts=auto.LocalWorkspaceOptions(env_vars=env),
    )
    try:
        yield stack
    finally:
        stack.destroy(on_output=on_output, color="never")
        stack.workspace.remove_stack(STACK_NAME)


def _ignore_local_files(_folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__" or name.startswith("Pulumi.")} - {
        "Pulumi.yaml"
    }


def _say(example: str) -> Callable[[str], None]:
    def print_line(line: str) -> None:
        print(f"[{example}] {line.rstrip()}", flush=True)

    return print_line


def _print_summary(build: dict[str, Any], deploy: dict[str, Any]) -> None:
    print()
    print(f"Build {build['buildNumber'].value} ended as {build['status'].value}")
    print(f"Build page: {build['buildUrl'].value}")
    print("Artefact URLs (served by the emulator):")
    for name, url in sorted(build["artefactUrls"].value.items()):
        print(f"  {name}: {url}")
    path = Path(deploy["publishedPath"].value)
    print(
        f"Published {path.name} to {path} "
        f"({deploy['publishedSize'].value} bytes, md5 {deploy['publishedMd5'].value}; "
        f"on disk: {path.is_file()})"
    )
    print()


if __name__ == "__main__":
    sys.exit(main())
