"""Loading emulator config files and codemagic.yaml workflows."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from emulator_helpers import TOKEN

from pulumi_codemagic.emulator import (
    SAMPLE_ANDROID_APP_ID,
    SAMPLE_APP_ID,
    ConfigError,
    load_config,
    run_emulator,
)
from pulumi_codemagic.emulator.config import UNSET, derive_artefact

WORKFLOW_YAML = """
workflows:
  nightly:
    name: Nightly
    scripts:
      - echo first line
      - name: Build
        script: ./gradlew assemble
    artifacts:
      - out/*.apk
"""


@pytest.mark.parametrize(
    "pattern, name, kind",
    [
        ("build/**/outputs/**/*.apk", "app-release.apk", "apk"),
        ("app/build/outputs/**/*debug*.apk", "app-debug.apk", "apk"),
        ("build/**/outputs/**/*.aab", "app-release.aab", "aab"),
        ("build/**/outputs/**/mapping.txt", "mapping.txt", "proguard_map"),
        ("build/ios/ipa/*.ipa", "Runner.ipa", "ipa"),
        ("/tmp/xcodebuild_logs/*.log", "xcodebuild.log", "xcodebuild_log"),
        (
            "$HOME/Library/Developer/Xcode/DerivedData/**/Build/**/*.dSYM",
            "Runner.app.dSYM.zip",
            "dsym",
        ),
        ("flutter_drive.log", "flutter_drive.log", "log"),
        ("build/web/*.zip", "output.zip", "zip"),
    ],
    ids=["apk", "debug-apk", "aab", "mapping", "ipa", "xcodebuild-log", "dsym", "literal", "zip"],
)
def test_derive_artefact(pattern: str, name: str, kind: str) -> None:
    artefact = derive_artefact(pattern)

    assert artefact.name == name
    assert artefact.type == kind


def test_derive_artefact_numbers_duplicates() -> None:
    used_names: set[str] = set()

    names = [derive_artefact(p, used_names=used_names).name for p in ("a/*.apk", "b/*.apk")]

    assert names == ["app-release.apk", "app-release-2.apk"]


def test_sample_config_apps() -> None:
    config = load_config()

    assert list(config.apps) == [SAMPLE_APP_ID, SAMPLE_ANDROID_APP_ID]
    assert list(config.apps[SAMPLE_APP_ID].workflows) == ["android-release", "ios-release"]
    assert list(config.apps[SAMPLE_ANDROID_APP_ID].workflows) == ["android-debug"]
    assert config.phase_seconds == 2.0


def test_sample_ios_workflow() -> None:
    workflow = load_config().apps[SAMPLE_APP_ID].workflows["ios-release"]

    assert [a.name for a in workflow.artefacts] == [
        "Runner.ipa",
        "xcodebuild.log",
        "Runner.app.dSYM.zip",
    ]
    assert workflow.platforms == ("ios",)
    assert workflow.software_versions["xcode"] == "16.0"
    assert workflow.scripts[0] == "Get Flutter packages"


def _write_config(tmp_path: Path, text: str, workflow_yaml: str = WORKFLOW_YAML) -> Path:
    (tmp_path / "app.codemagic.yaml").write_text(workflow_yaml)
    path = tmp_path / "emulator.yaml"
    path.write_text(text)
    return path


APP = """
apps:
  - id: 0123456789abcdef01234567
    name: demo
    codemagicYaml: app.codemagic.yaml
"""


def test_custom_config_defaults(tmp_path: Path) -> None:
    config = load_config(_write_config(tmp_path, APP))

    app = config.apps["0123456789abcdef01234567"]
    assert app.workflows["nightly"].scripts == ("echo first line", "Build")
    assert app.default_branch == "main"
    assert config.phase_seconds is UNSET
    assert config.faults is None


def test_custom_config_null_phase_is_manual(tmp_path: Path) -> None:
    config = load_config(_write_config(tmp_path, APP + "phaseSeconds: null\n"))

    assert config.phase_seconds is None


INVALID_CONFIGS = [
    pytest.param("apps: []\n", "'apps' must be a non-empty list", id="no-apps"),
    pytest.param(
        APP.replace("0123456789abcdef01234567", "app-1"), "24 lower-case hex", id="bad-id"
    ),
    pytest.param(APP + "speed: 3\n", "unknown key 'speed'", id="unknown-key"),
    pytest.param(
        APP + APP.replace("apps:\n", "").replace("name: demo", "name: again"),
        "duplicate id",
        id="duplicate-id",
    ),
    pytest.param(
        APP.replace("app.codemagic.yaml", "missing.yaml"), "cannot read", id="missing-yaml"
    ),
    pytest.param(
        APP + "outcomes:\n  - status: exploded\n", "invalid outcome status", id="bad-outcome"
    ),
    pytest.param(APP + "faults:\n  errorRate: 3\n", "errorRate=3", id="bad-faults"),
    pytest.param(APP + "phaseSeconds: fast\n", "phaseSeconds", id="bad-phase"),
    pytest.param("apps: [\n", "invalid YAML", id="invalid-yaml"),
]


@pytest.mark.parametrize("text, message", INVALID_CONFIGS)
def test_invalid_config_raises(tmp_path: Path, text: str, message: str) -> None:
    path = _write_config(tmp_path, text)

    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_invalid_workflow_file_raises(tmp_path: Path) -> None:
    path = _write_config(tmp_path, APP, workflow_yaml="jobs: {}\n")

    with pytest.raises(ConfigError, match="expected a 'workflows' mapping"):
        load_config(path)


def test_custom_config_served(tmp_path: Path) -> None:
    text = APP + "outcomes:\n  - branch: main\n    status: failed\n"
    path = _write_config(tmp_path, text)
    headers = {"x-auth-token": TOKEN}

    with run_emulator(token=TOKEN, config_path=path, phase_seconds=None) as handle:
        body = {"appId": "0123456789abcdef01234567", "workflowId": "nightly", "branch": "main"}
        build_id = requests.post(f"{handle.base_url}/builds", json=body, headers=headers).json()
        handle.advance(build_id["buildId"], steps=10)
        build = requests.get(f"{handle.base_url}/builds/{build_id['buildId']}", headers=headers)

    assert build.json()["build"]["status"] == "failed"
    assert build.json()["build"]["message"] == "Step 4 script `Build` exited with status code 1"


def test_run_emulator_default_token() -> None:
    with run_emulator(phase_seconds=None) as handle:
        response = requests.get(
            f"{handle.base_url}/apps", headers={"x-auth-token": "emulator-token"}, timeout=10
        )

    assert handle.token == "emulator-token"
    assert response.status_code == 200
