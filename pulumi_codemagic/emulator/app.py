"""Serve the emulated legacy Codemagic API (``https://api.codemagic.io``) with FastAPI.

`create_app` returns an ASGI app with these routes, each responding like the real
API as far as it is known:

* ``POST /builds``, ``GET /builds``, ``GET /builds/{id}``, ``POST /builds/{id}/cancel``
  and ``GET /builds/{id}/step/{stepId}`` (a step's plain-text log);
* ``GET /apps`` and ``GET /apps/{id}``;
* ``GET /artifacts/<uuid>/<uuid>/<name>``, ``POST /artifacts/<uuid>/<uuid>/<name>/public-url``
  and ``GET /artifacts/.<token>`` (a public URL, no token needed until it expires);
* the admin routes of `admin.router` under ``/_emulator/`` (no token).

API routes need the ``x-auth-token`` header. A missing or wrong token gives 401
``{"error": "Unauthorized"}``, except on ``/artifacts`` routes, which return 403
``FORBIDDEN`` as the real artefact service does. Errors use the legacy shape
``{"error": ..., "message": ...}``. `middleware.EmulatorMiddleware` wraps the app to
log each request and to inject faults.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import admin
from .clock import format_offset_timestamp
from .state import (
    PAGE_SIZE,
    BuildFilters,
    EmulatorState,
    StartRequest,
    UnknownAppError,
    UnknownBuildError,
    UnknownWorkflowError,
)

logger = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "The requested URL was not found on the server."
FORBIDDEN_MESSAGE = "You don't have the permission to access the requested resource."
ENVIRONMENT_KEYS = ("variables", "groups", "softwareVersions")
_DIGITS = re.compile(r"[0-9]+")


class ApiError(Exception):
    """Error response: HTTP status and JSON body."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(status_code, body)
        self.status_code = status_code
        self.body = body


def not_found() -> ApiError:
    """Return the legacy API's 404 error."""
    return ApiError(404, {"error": "NOT_FOUND", "message": NOT_FOUND_MESSAGE})


def forbidden(message: str = FORBIDDEN_MESSAGE) -> ApiError:
    """Return the artefact service's 403 error."""
    return ApiError(403, {"error": "FORBIDDEN", "message": message})


def bad_request(error: str, message: str | None = None) -> ApiError:
    """Return a 400 error. `error` is the short text that clients read first."""
    # NOTE: Codemagic does not document its 400 messages, so these texts are ours.
    body: dict[str, Any] = {"error": error}
    if message is not None:
        body["message"] = message
    return ApiError(400, body)


def base_url_of(request: Request) -> str:
    """Return the URL prefix the client used to reach the emulator, without a slash."""
    return str(request.base_url).rstrip("/")


def create_app(state: EmulatorState, *, token: str) -> FastAPI:
    """Build the ASGI app serving `state`, accepting only `token` on API routes."""
    app = FastAPI(
        title="Codemagic API emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.emulator = state

    def check_token(request: Request) -> None:
        if not _token_matches(request, token):
            raise ApiError(401, {"error": "Unauthorized"})

    def check_artefact_token(request: Request) -> None:
        if not _token_matches(request, token):
            raise forbidden()

    @app.exception_handler(ApiError)
    async def api_error_handler(request: Request, error: ApiError) -> Response:
        return JSONResponse(error.body, status_code=error.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error_handler(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return JSONResponse(not_found().body, status_code=404)
        if error.status_code == 405:
            body = {"error": "METHOD_NOT_ALLOWED", "message": "The method is not allowed here."}
            return JSONResponse(body, status_code=405, headers=error.headers)
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)

    # Builds ------------------------------------------------------------------

    @app.post("/builds")
    async def start_build(request: Request) -> Response:
        check_token(request)
        start = _parse_start_request(await _json_body(request))
        try:
            build_id = state.start_build(start)
        except UnknownAppError:
            # NOTE: Codemagic's GitHub Action expects 403 for an app that is unknown
            # or not shared with the token. The body is a guess.
            raise ApiError(
                403,
                {
                    "error": "Forbidden",
                    "message": f"Application {start.app_id} is not accessible with this token.",
                },
            ) from None
        except UnknownWorkflowError:
            # NOTE: a guess. Users report "workflow not found", but whether the real
            # API rejects the request or creates a build that then fails is unknown.
            app_payload = state.application_payload(start.app_id) or {}
            raise bad_request(
                "Workflow not found",
                f"Workflow {start.workflow_id!r} is not defined in codemagic.yaml "
                f"of app {app_payload.get('appName', start.app_id)}.",
            ) from None
        logger.info(
            "Started build %s of app %s, workflow %s", build_id, start.app_id, start.workflow_id
        )
        return JSONResponse({"buildId": build_id})

    @app.get("/builds")
    async def list_builds(request: Request) -> Response:
        check_token(request)
        query = request.query_params
        filters = BuildFilters(
            app_id=query.get("appId"),
            workflow_id=query.get("workflowId"),
            branch=query.get("branch"),
            tag=query.get("tag"),
        )
        skip_text = query.get("skip", "0")
        if not _DIGITS.fullmatch(skip_text):
            raise bad_request("Invalid skip", "skip must be a non-negative integer.")
        skip = int(skip_text)
        applications, builds, more = state.list_builds(
            filters, skip=skip, base_url=base_url_of(request)
        )
        return JSONResponse(
            {
                "applications": applications,
                "builds": builds,
                "nextPageUrl": _next_page_url(filters, skip + PAGE_SIZE) if more else None,
            }
        )

    @app.get("/builds/{build_id}")
    async def get_build(build_id: str, request: Request) -> Response:
        check_token(request)
        payloads = state.build_payloads(build_id, base_url_of(request))
        if payloads is None:
            raise not_found()
        application, build = payloads
        return JSONResponse({"application": application, "build": build})

    @app.post("/builds/{build_id}/cancel")
    async def cancel_build(build_id: str, request: Request) -> Response:
        check_token(request)
        try:
            canceled = state.cancel_build(build_id)
        except UnknownBuildError:
            raise not_found() from None
        # NOTE: the bodies of both responses are undocumented. The emulator sends none,
        # so clients must rely on the status code only.
        if canceled:
            logger.info("Canceled build %s", build_id)
            return Response(status_code=200)
        return Response(status_code=208)

    @app.get("/builds/{build_id}/step/{step_id}")
    async def get_step_log(build_id: str, step_id: str, request: Request) -> Response:
        check_token(request)
        log = state.step_log(build_id, step_id)
        if log is None:
            raise not_found()
        return PlainTextResponse(log)

    # Apps --------------------------------------------------------------------

    @app.get("/apps")
    async def list_apps(request: Request) -> Response:
        check_token(request)
        return JSONResponse({"applications": state.application_payloads()})

    @app.get("/apps/{app_id}")
    async def get_app(app_id: str, request: Request) -> Response:
        check_token(request)
        application = state.application_payload(app_id)
        if application is None:
            raise not_found()
        return JSONResponse({"application": application})

    # Artefacts ---------------------------------------------------------------

    @app.post("/artifacts/{secure_path:path}/public-url")
    async def create_public_url(secure_path: str, request: Request) -> Response:
        check_artefact_token(request)
        if state.find_artefact(secure_path) is None:
            raise not_found()
        body = await _json_body(request)
        expires_at = body.get("expiresAt")
        if expires_at is None:
            raise bad_request("expiresAt is required", "Send expiresAt as UNIX seconds.")
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            raise bad_request("Invalid expiresAt", "expiresAt must be an integer (UNIX seconds).")
        if expires_at <= state.clock.now():
            raise bad_request("Invalid expiresAt", "expiresAt must be in the future.")
        token = state.sign_public_url(secure_path, expires_at)
        return JSONResponse(
            {
                "url": f"{base_url_of(request)}/artifacts/.{token}",
                "expiresAt": format_offset_timestamp(expires_at),
            }
        )

    @app.get("/artifacts/{secure_path:path}")
    async def download_artefact(secure_path: str, request: Request) -> Response:
        if secure_path.startswith("."):
            artefact, expired = state.check_public_token(secure_path[1:])
            if artefact is None:
                raise forbidden()
            if expired:
                # NOTE: a guess. The real service may return 400, 403 or 410.
                raise forbidden("This public URL has expired.")
        else:
            check_artefact_token(request)
            artefact = state.find_artefact(secure_path)
            if artefact is None:
                raise not_found()
        return Response(
            artefact.content,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{artefact.name}"'},
        )

    app.include_router(admin.router)
    return app


def _token_matches(request: Request, token: str) -> bool:
    sent = request.headers.get("x-auth-token")
    # NOTE: Authorization: Bearer may also work on the real API; the emulator
    # accepts only x-auth-token, the documented header.
    return sent is not None and hmac.compare_digest(sent.encode(), token.encode())


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise bad_request("Invalid request body", "The request body must be a JSON object.")
    return body


def _parse_start_request(body: dict[str, Any]) -> StartRequest:
    """Validate a ``POST /builds`` body; unknown top-level keys are ignored."""
    app_id = _required_text(body, "appId")
    workflow_id = _required_text(body, "workflowId")

    branch = _optional_text(body, "branch")
    tag = _optional_text(body, "tag")
    if branch is None and tag is None:
        raise bad_request("Either branch or tag is required")
    if branch is not None and tag is not None:
        # NOTE: Codemagic's GitHub Action sends both and documents that the tag wins;
        # the emulator rejects the pair so that a client's mistake surfaces.
        raise bad_request("Specify either branch or tag, not both")

    environment = body.get("environment")
    if environment is None:
        environment = {}
    _validate_environment(environment)

    labels = body.get("labels")
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise bad_request("Invalid labels", "labels must be a list of strings.")

    instance_type = _optional_text(body, "instanceType")
    return StartRequest(
        app_id=app_id,
        workflow_id=workflow_id,
        branch=branch,
        tag=tag,
        environment=environment,
        labels=tuple(labels),
        instance_type=instance_type,
        body=body,
    )


def _validate_environment(environment: object) -> None:
    if not isinstance(environment, dict):
        raise bad_request("Invalid environment", "environment must be an object.")
    unknown = sorted(set(environment) - set(ENVIRONMENT_KEYS))
    if unknown:
        # NOTE: the real API probably ignores unknown keys silently; the emulator
        # rejects them, because such a key usually means a misplaced variable.
        raise bad_request(
            "Invalid environment",
            f"Unknown environment key {unknown[0]!r}; expected {', '.join(ENVIRONMENT_KEYS)}.",
        )
    for key in ("variables", "softwareVersions"):
        mapping = environment.get(key, {})
        if not isinstance(mapping, dict) or not all(
            isinstance(name, str) and isinstance(value, str) for name, value in mapping.items()
        ):
            raise bad_request(
                "Invalid environment", f"environment.{key} must map names to string values."
            )
    groups = environment.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise bad_request("Invalid environment", "environment.groups must be a list of strings.")


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None or value == "":
        raise bad_request(f"{key} is required")
    if not isinstance(value, str):
        raise bad_request(f"Invalid {key}", f"{key} must be a string.")
    return value


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"Invalid {key}", f"{key} must be a string.")
    return value


def _next_page_url(filters: BuildFilters, skip: int) -> str:
    # NOTE: real pages show only appId and skip; the emulator keeps every filter
    # so that following nextPageUrl never widens the listing.
    pairs = [
        ("appId", filters.app_id),
        ("workflowId", filters.workflow_id),
        ("branch", filters.branch),
        ("tag", filters.tag),
    ]
    query = [(key, value) for key, value in pairs if value is not None]
    query.append(("skip", str(skip)))
    return f"/builds?{urlencode(query)}"
