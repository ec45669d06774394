"""Serve the emulator's admin routes under ``/_emulator/``, for tests and demos only.

These routes need no token, are never faulted and are not counted in the request
statistics. They are not part of the Codemagic API.

* ``GET /_emulator/health``: ``{"status": "ok"}``.
* ``GET /_emulator/builds``: every build, oldest first, with its start request, plan
  and planned outcome; ``GET /_emulator/builds/{id}``: one build.
* ``POST /_emulator/builds/{id}/status`` ``{"status": ..., "message": ...}``: force a status.
* ``POST /_emulator/advance`` ``{"buildId": optional, "steps": 1}``: move builds forward.
* ``POST /_emulator/clock/advance`` ``{"seconds": n}``: move the emulator clock forward.
* ``PUT /_emulator/phase-seconds`` ``{"phaseSeconds": n or null}``: change the speed.
* ``GET``, ``POST``, ``DELETE /_emulator/outcomes``: list, add, clear run-time rules.
* ``GET``, ``PUT``, ``DELETE /_emulator/faults``: show, replace, switch off faults.
* ``GET /_emulator/stats``: ``buildsStarted``, ``requests`` (by ``METHOD /route``),
  ``responses`` (by status code or ``dropped``), ``faults`` (by kind), ``now`` and
  ``phaseSeconds``.
* ``POST /_emulator/reset``: drop builds, counters and run-time rules, and restore
  the configured faults, speed and clock.

Errors return 400 or 404 with ``{"error": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .clock import format_legacy_timestamp
from .faults import FaultSettings
from .lifecycle import OutcomeRule
from .state import EmulatorState, UnknownBuildError

ADMIN_PREFIX = "/_emulator"

router = APIRouter(prefix=ADMIN_PREFIX)


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _error(status_code: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status_code)


async def _body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@router.get("/health")
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/builds")
async def list_builds(request: Request) -> Response:
    return JSONResponse({"builds": _state(request).admin_builds(_base_url(request))})


@router.get("/builds/{build_id}")
async def get_build(build_id: str, request: Request) -> Response:
    try:
        return JSONResponse(_state(request).admin_build(build_id, _base_url(request)))
    except UnknownBuildError:
        return _error(404, f"build {build_id} not found")


@router.post("/builds/{build_id}/status")
async def force_status(build_id: str, request: Request) -> Response:
    body = await _body(request)
    if body is None or not isinstance(body.get("status"), str) or not body["status"]:
        return _error(400, 'expected a JSON object with a non-empty "status" string')
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        return _error(400, '"message" must be a string or null')
    state = _state(request)
    try:
        state.force_status(build_id, body["status"], message)
        return JSONResponse(state.admin_build(build_id, _base_url(request)))
    except UnknownBuildError:
        return _error(404, f"build {build_id} not found")


@router.post("/advance")
async def advance(request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return _error(400, "expected a JSON object")
    build_id = body.get("buildId")
    steps = body.get("steps", 1)
    if build_id is not None and not isinstance(build_id, str):
        return _error(400, '"buildId" must be a string')
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        return _error(400, '"steps" must be a positive integer')
    try:
        moved = _state(request).advance(build_id, steps=steps)
    except UnknownBuildError:
        return _error(404, f"build {build_id} not found")
    return JSONResponse({"advanced": moved})


@router.post("/clock/advance")
async def advance_clock(request: Request) -> Response:
    body = await _body(request)
    seconds = body.get("seconds") if body is not None else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return _error(400, '"seconds" must be a non-negative number')
    now = _state(request).clock.advance(float(seconds))
    return JSONResponse({"now": format_legacy_timestamp(now), "unixSeconds": now})


@router.put("/phase-seconds")
async def set_phase_seconds(request: Request) -> Response:
    body = await _body(request)
    if body is None or "phaseSeconds" not in body:
        return _error(400, 'expected {"phaseSeconds": <positive number or null>}')
    value = body["phaseSeconds"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        return _error(400, '"phaseSeconds" must be a number or null')
    try:
        _state(request).set_phase_seconds(value)
    except ValueError as error:
        return _error(400, str(error))
    return JSONResponse({"phaseSeconds": _state(request).phase_seconds})


@router.get("/outcomes")
async def list_outcomes(request: Request) -> Response:
    return _outcomes_response(_state(request))


@router.post("/outcomes")
async def add_outcome(request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return _error(400, "expected a JSON object")
    try:
        rule = OutcomeRule.from_mapping(body)
    except ValueError as error:
        return _error(400, str(error))
    state = _state(request)
    state.add_outcome(rule)
    return _outcomes_response(state)


@router.delete("/outcomes")
async def clear_outcomes(request: Request) -> Response:
    state = _state(request)
    state.clear_outcomes()
    return _outcomes_response(state)


def _outcomes_response(state: EmulatorState) -> Response:
    """Return the run-time outcome rules, as every outcomes route answers."""
    return JSONResponse({"outcomes": [rule.to_mapping() for rule in state.outcome_rules()]})


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return JSONResponse(_state(request).faults.settings.to_mapping())


@router.put("/faults")
async def set_faults(request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return _error(400, "expected a JSON object")
    try:
        settings = FaultSettings.from_mapping(body)
    except ValueError as error:
        return _error(400, str(error))
    state = _state(request)
    state.faults.configure(settings)
    return JSONResponse(state.faults.settings.to_mapping())


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    state = _state(request)
    state.faults.configure(None)
    return JSONResponse(state.faults.settings.to_mapping())


@router.get("/stats")
async def stats(request: Request) -> Response:
    return JSONResponse(_state(request).stats())


@router.post("/reset")
async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"status": "reset"})
