"""The command line entry point.

Runs that serve requests start a subprocess, as a user's script would. Runs that
must exit at once with status 2 call `main` in-process, because it installs no
signal handler before that point.
"""

from __future__ import annotations

import re
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from emulator_helpers import TOKEN

from pulumi_codemagic.emulator.cli import main

LISTENING_LINE = re.compile(r"^Codemagic emulator listening on (http://127\.0\.0\.1:\d+)$")
CONSOLE_SCRIPT = Path(sys.executable).parent / "codemagic-emulator"


class Emulator:
    """A running emulator process and the base URL it printed."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.first_line = self._read_first_line()
        match = LISTENING_LINE.match(self.first_line)
        self.base_url = match.group(1) if match else ""

    def _read_first_line(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        return self.process.stdout.readline().rstrip("\n") if ready else ""

    def stop(self, signal_number: int) -> tuple[int, str]:
        """Send a signal and return the exit status and stderr."""
        self.process.send_signal(signal_number)
        _, stderr = self.process.communicate(timeout=15)
        return self.process.returncode, stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def launch() -> Iterator[type[Emulator]]:
    started: list[Emulator] = []

    class Tracked(Emulator):
        def __init__(self, command: list[str]) -> None:
            super().__init__(command)
            started.append(self)

    yield Tracked
    for emulator in started:
        emulator.kill()


def _module_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "pulumi_codemagic.emulator", "--port", "0", *options]


def test_cli_prints_base_url_and_stops_on_sigterm(launch: type[Emulator]) -> None:
    emulator = launch(_module_command("--manual", "--token", TOKEN))

    response = requests.get(
        f"{emulator.base_url}/apps", headers={"x-auth-token": TOKEN}, timeout=10
    )
    status, stderr = emulator.stop(signal.SIGTERM)

    assert LISTENING_LINE.match(emulator.first_line), emulator.first_line
    assert response.status_code == 200
    assert status == 0
    assert "GET /apps 200" in stderr
    assert TOKEN not in stderr


def test_cli_console_script_stops_on_sigint(launch: type[Emulator]) -> None:
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"console script not installed at {CONSOLE_SCRIPT}")
    emulator = launch([str(CONSOLE_SCRIPT), "--port", "0", "--fault-error-rate", "1"])

    response = requests.get(f"{emulator.base_url}/apps", timeout=10)
    status, _ = emulator.stop(signal.SIGINT)

    assert response.status_code == 503
    assert status == 0


def test_cli_invalid_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yaml"

    status = main(["--config", str(missing)])

    captured = capsys.readouterr()
    assert status == 2
    assert str(missing) in captured.err
    assert captured.out == ""


def test_cli_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        status = main(["--port", str(port)])

    assert status == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_cli_rejects_negative_phase_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--phase-seconds", "-1"])

    assert status == 2
    assert "--phase-seconds" in capsys.readouterr().err


def test_cli_rejects_invalid_fault_rate(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--fault-error-rate", "2"])

    assert status == 2
    assert "errorRate=2.0" in capsys.readouterr().err


def test_cli_manual_conflicts_with_phase_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--manual", "--phase-seconds", "1"])

    assert raised.value.code == 2
