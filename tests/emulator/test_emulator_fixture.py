"""The shared ``emulator`` fixture and behaviour that needs the real clock or threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle

TERMINAL = {"finished", "warning", "failed", "canceled", "timeout", "skipped"}
STATUS_ORDER = [
    "queued",
    "preparing",
    "fetching",
    "building",
    "testing",
    "publishing",
    "finishing",
    "finished",
]
START_BODY = {"appId": SAMPLE_APP_ID, "workflowId": "ios-release", "branch": "main"}


def test_fixture_build_finishes_on_real_clock(emulator: EmulatorHandle) -> None:
    session = requests.Session()
    session.headers.update(emulator.auth_headers)
    build_id = session.post(f"{emulator.base_url}/builds", json=START_BODY).json()["buildId"]

    # Poll as a client would; the deadline only stops a broken run.
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        build = session.get(f"{emulator.base_url}/builds/{build_id}").json()["build"]
        if not seen or seen[-1] != build["status"]:
            seen.append(build["status"])
        if build["status"] in TERMINAL:
            break
        time.sleep(0.01)

    assert seen[-1] == "finished"
    assert seen == sorted(seen, key=lambda status: STATUS_ORDER.index(status))
    assert build["artefacts"][0]["name"] == "Runner.ipa"


def test_concurrent_starts_get_unique_ids(emulator: EmulatorHandle) -> None:
    def start(_: int) -> str:
        response = requests.post(
            f"{emulator.base_url}/builds",
            json=START_BODY,
            headers=emulator.auth_headers,
            timeout=10,
        )
        build_id: str = response.json()["buildId"]
        return build_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        build_ids = list(pool.map(start, range(40)))

    assert len(set(build_ids)) == 40
    assert emulator.start_count == 40
    indexes = sorted(item["build"]["index"] for item in emulator.builds())
    assert indexes == list(range(1, 41))


def test_package_import_does_not_load_emulator() -> None:
    code = (
        "import sys, pulumi_codemagic; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'pulumi_codemagic.emulator') "
        "if m in sys.modules))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_run_emulator_leaves_no_thread_or_socket() -> None:
    from pulumi_codemagic.emulator import run_emulator

    with run_emulator(phase_seconds=None) as handle:
        port = int(handle.base_url.rsplit(":", 1)[1])
        requests.get(f"{handle.base_url}/_emulator/health", timeout=10)

    threads = [thread.name for thread in threading.enumerate()]
    assert f"codemagic-emulator-{port}" not in threads
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{handle.base_url}/_emulator/health", timeout=10)
