"""The examples under the real engine, against the emulator, as `make demo` runs them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from engine_harness import REPO_ROOT, EngineOutput, ProjectStackFactory
from pulumi import automation as auto

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle

EXAMPLES_DIR = REPO_ROOT / "examples"


def _api_config(emulator: EmulatorHandle) -> dict[str, str]:
    return {"codemagic:apiUrl": emulator.base_url, "pollIntervalSeconds": "1"}


def _artefact_of_type(artefacts: list[dict[str, Any]], artefact_type: str) -> dict[str, Any]:
    matches = [item for item in artefacts if item["type"] == artefact_type]
    assert matches, f"no {artefact_type} artefact in {artefacts}"
    return matches[0]


def test_deploy_example_publishes_artefact(
    project_stack: ProjectStackFactory,
    engine_output: EngineOutput,
    emulator: EmulatorHandle,
    tmp_path: Path,
) -> None:
    secret = {"codemagic:token": emulator.token}
    build_stack = project_stack(
        EXAMPLES_DIR / "build-and-export",
        config={**_api_config(emulator), "appId": SAMPLE_APP_ID},
        secret_config=secret,
    )
    build = build_stack.up(on_output=engine_output, color="never").outputs

    assert build["status"].value == "finished"
    assert emulator.start_count == 1
    apk = _artefact_of_type(build["artefacts"].value, "apk")
    assert build["artefactUrls"].value[apk["name"]] == apk["url"]
    assert apk["url"].startswith(f"{emulator.base_url}/artifacts/")

    publish_dir = tmp_path / "published"
    deploy_stack = project_stack(
        EXAMPLES_DIR / "deploy-from-build",
        config={
            "codemagic:apiUrl": emulator.base_url,
            "buildStack": f"organization/build-and-export/{build_stack.name}",
            "publishDir": str(publish_dir),
        },
        secret_config=secret,
    )
    deploy = deploy_stack.up(on_output=engine_output, color="never").outputs

    published = Path(deploy["publishedPath"].value)
    assert published == publish_dir / apk["name"]
    assert hashlib.md5(published.read_bytes()).hexdigest() == apk["md5"]
    assert deploy["publishedMd5"].value == apk["md5"]
    assert deploy["publishedSize"].value == apk["size"]
    assert deploy["buildUrl"].value == build["buildUrl"].value

    deploy_stack.destroy(on_output=engine_output, color="never")

    assert not published.exists()
    assert emulator.token not in engine_output.text


def test_matrix_example_rebuilds_on_version(
    project_stack: ProjectStackFactory,
    engine_output: EngineOutput,
    emulator: EmulatorHandle,
) -> None:
    stack = project_stack(
        EXAMPLES_DIR / "matrix",
        config={**_api_config(emulator), "appId": SAMPLE_APP_ID, "version": "1.4.2"},
        secret_config={"codemagic:token": emulator.token},
    )

    first = stack.up(on_output=engine_output, color="never").outputs

    assert first["androidStatus"].value == "finished"
    assert first["iosStatus"].value == "finished"
    assert "Runner.ipa" in first["iosArtefactUrls"].value
    assert emulator.start_count == 2

    stack.up(on_output=engine_output, color="never")

    assert emulator.start_count == 2

    stack.set_config("matrix:version", auto.ConfigValue(value="1.4.3"))
    second = stack.up(on_output=engine_output, color="never").outputs

    assert emulator.start_count == 4
    assert second["androidBuildUrl"].value != first["androidBuildUrl"].value
    assert second["iosBuildUrl"].value != first["iosBuildUrl"].value
    started = [build["startRequest"] for build in emulator.builds()]
    versions = [request["environment"]["variables"]["APP_VERSION"] for request in started]
    assert sorted(versions) == ["1.4.2", "1.4.2", "1.4.3", "1.4.3"]
