"""The dynamic resource provider behind :class:`pulumi_codemagic.Build`.

Pulumi pickles a ``BuildProvider`` (with dill) into the stack state and unpickles it in a
plugin process, ``python -m pulumi.dynamic``, which calls one method per engine request.
Up to four of those calls run at once on worker threads of that process. So the provider:

* lives in this importable module, so that dill stores a reference to the class, not its code;
* pickles to the same few bytes whatever ``configure()`` set, and never contains the token,
  an HTTP session or a client (see ``__getstate__``);
* makes a new :class:`~pulumi_codemagic.client.CodemagicClient` in each call that talks to
  Codemagic, and shares nothing mutable between calls except the settings, under a lock.

What each method does is documented on the method. In short: ``check`` validates without HTTP,
``diff`` replaces the build when what it builds changes, ``create`` starts and waits and is all
or nothing, ``read`` refreshes status and artefacts, ``update`` stores settings, ``delete``
cancels a running build.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .client import CodemagicClient
from .errors import BuildFailedError, BuildWaitTimeoutError, CodemagicError, NotFoundError
from .models import Build, BuildEnvironment, CancelResult, StartBuildRequest
from .outputs import build_outputs, isoformat, require_json_safe
from .progress import StatusReporter, write_to_engine_output
from .settings import ApiSettings
from .statuses import TERMINAL_STATUSES
from .validation import (
    INPUT_PROPERTIES,
    REPLACE_PROPERTIES,
    UPDATE_PROPERTIES,
    check_build_inputs,
    contains_unknown,
    normalize_build_inputs,
)
from .waiting import wait_for_build

__all__ = ["PROVIDER_KEY", "BuildAbortedError", "BuildProvider"]

logger = logging.getLogger(__name__)

PROVIDER_KEY = "__provider"
"""Property under which Pulumi stores the pickled provider; never part of a diff."""


ClientFactory = Callable[..., CodemagicClient]


class BuildAbortedError(CodemagicError):
    """A create failed after its build had started, and the provider tried to cancel the build.

    Attributes:
        build_id: Id of the build the create started.
        canceled: Whether the cancel request succeeded (or found the build already ended).
    """

    def __init__(self, message: str, *, build_id: str, canceled: bool) -> None:
        super().__init__(message)
        self.build_id = build_id
        self.canceled = canceled


class BuildProvider(ResourceProvider):
    """Start, follow and cancel Codemagic builds for the ``Build`` dynamic resource.

    The keyword arguments exist for tests and are not resource inputs. A pickled provider
    keeps none of them: after unpickling it uses the real clock, ``time.sleep``,
    :class:`CodemagicClient` and the engine output.

    Args:
        clock: Monotonic clock in seconds, used for the wait deadline and poll intervals.
        sleep: Function that pauses for a number of seconds between polls.
        now: Current wall-clock time as an aware datetime, used for public URL expiry.
        client_factory: Callable taking the keywords ``token``, ``base_url``, ``sleep`` and
            ``now`` (UNIX seconds) of :class:`CodemagicClient` and returning a client.
        emit: Function that shows one progress line in the ``pulumi up`` output.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], datetime] | None = None,
        client_factory: ClientFactory | None = None,
        emit: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self._settings = ApiSettings()
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._now = now or _utc_now
        self._client_factory: ClientFactory = client_factory or CodemagicClient
        self._emit = emit or write_to_engine_output

    # ------------------------------------------------------------------------------------------
    # Pickling

    def __getstate__(self) -> dict[str, Any]:
        # Only a format marker: no token, no URL and no injected test hooks. A falsy state
        # would make pickle skip __setstate__, which the instance needs to rebuild itself.
        return {"state_format": 1}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    # ------------------------------------------------------------------------------------------
    # Configuration

    def configure(self, req: ConfigureRequest) -> None:
        """Keep ``codemagic:token`` and ``codemagic:apiUrl`` from the stack configuration.

        Both are optional here: without them the client falls back to the environment
        (``CODEMAGIC_API_TOKEN``, ``CM_API_TOKEN``, ``CODEMAGIC_API_URL``). A missing token fails
        the first call that needs the API, never ``check``, ``diff`` or a preview.
        """
        self._settings.configure(req)
        logger.info("Configured the Codemagic build provider: %r", self._settings)

    def _client(self) -> CodemagicClient:
        """Return a new client for one provider call.

        Raises ``MissingTokenError`` with the ``pulumi config set --secret codemagic:token``
        command when neither the stack configuration nor the environment has a token.
        """
        token, api_url = self._settings.values()
        return self._client_factory(
            token=token,
            base_url=api_url,
            sleep=self._sleep,
            now=lambda: self._now().timestamp(),
        )

    # ------------------------------------------------------------------------------------------
    # Check, diff, update

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input and fill in defaults, without any HTTP call.

        Returns one failure per bad property. Values unknown during preview are not checked.
        """
        return check_build_inputs(news)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Compare the stored state with new inputs.

        A change of what is built (:data:`~pulumi_codemagic.validation.REPLACE_PROPERTIES`)
        replaces the build, creating the new one before deleting the old one. A change of how
        the provider waits or deletes (:data:`~pulumi_codemagic.validation.UPDATE_PROPERTIES`)
        updates in place. A new pickled provider alone is no change. A value unknown during
        preview counts as changed.
        """
        old = normalize_build_inputs(_olds)
        new = normalize_build_inputs(_news)
        replaces = [key for key in REPLACE_PROPERTIES if _differs(old[key], new[key])]
        updates = [key for key in UPDATE_PROPERTIES if _differs(old[key], new[key])]
        logger.debug("Diff of build %s: replaces %s, updates %s", _id, replaces, updates)
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """Store new wait and delete settings; no API call and no new build.

        The build's outputs stay as they were. ``diff`` sends every change of what is built to
        a replacement, so only settings arrive here.
        """
        outputs = {key: value for key, value in _olds.items() if key != PROVIDER_KEY}
        new = normalize_build_inputs(_news)
        outputs.update({key: new[key] for key in INPUT_PROPERTIES})
        return UpdateResult(outputs)

    # ------------------------------------------------------------------------------------------
    # Create

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Start a build and, unless ``wait_for_completion`` is false, wait for its end.

        All or nothing: if anything fails after ``POST /builds`` (a status outside
        ``success_statuses``, the deadline, an API error while polling or while creating
        public URLs), no resource is recorded. A build that is still running is canceled
        first; one that ended on its own is left as it is.
        """
        inputs = normalize_build_inputs(props)
        request = _start_request(inputs)
        client = self._client()
        try:
            build_id = client.start_build(request)
            logger.info(
                "Started build %s of app %s, workflow %s",
                build_id,
                request.app_id,
                request.workflow_id,
            )
            try:
                outputs = self._follow_new_build(client, build_id, inputs)
            except BuildFailedError:
                # The build ended on its own, so there is nothing to cancel.
                raise
            except Exception as error:
                self._abort(client, build_id, error)
            except BaseException:
                self._cancel_quietly(client, build_id)
                raise
        finally:
            client.close()
        return CreateResult(build_id, outputs)

    def _follow_new_build(
        self, client: CodemagicClient, build_id: str, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Wait for (or read once) a started build and return the resource outputs."""
        reporter = StatusReporter(self._emit)
        if inputs["wait_for_completion"]:
            build = wait_for_build(
                client,
                build_id,
                timeout_seconds=float(inputs["wait_timeout_minutes"]) * 60,
                success_statuses=frozenset(inputs["success_statuses"]),
                poll_interval_seconds=float(inputs["poll_interval_seconds"]),
                on_status_change=reporter,
                clock=self._clock,
                sleep=self._sleep,
            )
        else:
            build = client.get_build(build_id)
            reporter(build)

        outputs: dict[str, Any] = {key: inputs[key] for key in INPUT_PROPERTIES}
        outputs.update(build_outputs(build))
        outputs.update(self._public_urls(client, build, inputs["public_artefact_url_ttl_hours"]))
        require_json_safe(outputs)
        return outputs

    def _public_urls(
        self, client: CodemagicClient, build: Build, ttl_hours: int | None
    ) -> dict[str, Any]:
        """Create a public URL per artefact of an ended build when a TTL is set."""
        urls: dict[str, str] = {}
        expiries: list[datetime] = []
        if ttl_hours is not None and build.is_terminal:
            expires_at = self._now() + timedelta(hours=ttl_hours)
            for artefact in build.artefacts:
                if artefact.name in urls:
                    continue
                public = client.create_public_url(artefact.url, expires_at=expires_at)
                urls[artefact.name] = public.url
                expiries.append(public.expires_at)
            logger.info("Created %d public artefact URLs for build %s", len(urls), build.id)
        return {
            "public_artefact_urls": urls,
            "public_artefact_urls_expire_at": isoformat(min(expiries)) if expiries else None,
        }

    def _abort(self, client: CodemagicClient, build_id: str, error: Exception) -> NoReturn:
        """Cancel the build of a failed create and raise :class:`BuildAbortedError`."""
        logger.error("Create of build %s failed after the start: %s", build_id, error)
        try:
            result = client.cancel_build(build_id)
        except NotFoundError:
            result = CancelResult.ALREADY_FINISHED
        except Exception as cancel_error:
            logger.error("Could not cancel build %s: %s", build_id, cancel_error)
            raise BuildAbortedError(
                f"{_failure_summary(error)} Canceling build {build_id} after this failure also "
                f"failed ({cancel_error}), so it may still be running: cancel it in Codemagic.",
                build_id=build_id,
                canceled=False,
            ) from error

        if result is CancelResult.CANCELED:
            outcome = "The provider canceled the build, so nothing is left running."
            self._emit(f"Canceled Codemagic build {build_id} because the create failed.")
        else:
            outcome = "The build had already ended, so nothing is left running."
        logger.info("Build %s after the failed create: %s", build_id, result.value)
        raise BuildAbortedError(
            f"{_failure_summary(error)} {outcome}", build_id=build_id, canceled=True
        ) from error

    def _cancel_quietly(self, client: CodemagicClient, build_id: str) -> None:
        """Try to cancel a build while an interruption propagates; log any failure."""
        try:
            client.cancel_build(build_id)
        except Exception as cancel_error:
            logger.error("Could not cancel build %s: %s", build_id, cancel_error)

    # ------------------------------------------------------------------------------------------
    # Read

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Fetch the build and return its current status, timestamps and artefacts.

        Inputs and public URLs stay as stored. A build that the API reports as not found (404)
        is dropped from the state. Any other error fails the refresh and leaves the state as it
        was.
        """
        client = self._client()
        try:
            build = client.get_build(id_)
        except NotFoundError:
            logger.warning(
                "Build %s no longer exists in Codemagic; dropping it from the state", id_
            )
            return ReadResult(None, {})
        finally:
            client.close()

        outputs = {key: value for key, value in props.items() if key != PROVIDER_KEY}
        outputs.update(_inputs_from_build(build, outputs))
        outputs.update(build_outputs(build))
        outputs.setdefault("public_artefact_urls", {})
        outputs.setdefault("public_artefact_urls_expire_at", None)
        require_json_safe(outputs)
        return ReadResult(id_, outputs)

    # ------------------------------------------------------------------------------------------
    # Delete

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Cancel the build if it is still running and ``cancel_on_delete`` is true.

        Makes no API call when ``cancel_on_delete`` is false or when the stored status is
        terminal, because an ended build never runs again. A build that has ended since the
        last refresh (HTTP 208) or that Codemagic reports as not found (HTTP 404) counts as
        deleted.
        """
        inputs = normalize_build_inputs(_props)
        status = _props.get("status")
        if inputs["cancel_on_delete"] is False:
            logger.info("Leaving build %s as it is: cancel_on_delete is false", _id)
            return
        if status in TERMINAL_STATUSES:
            logger.info("Build %s already ended with status %s; nothing to cancel", _id, status)
            return

        client = self._client()
        try:
            result = client.cancel_build(_id)
        except NotFoundError:
            logger.info("Build %s no longer exists in Codemagic; nothing to cancel", _id)
            return
        finally:
            client.close()

        if result is CancelResult.CANCELED:
            self._emit(f"Canceled Codemagic build {_id}: {_props.get('build_url') or _id}")
        else:
            logger.info("Build %s had already ended; nothing to cancel", _id)


def _failure_summary(error: Exception) -> str:
    """Describe why a create failed, without advice that the provider's cancel made moot."""
    if not isinstance(error, BuildWaitTimeoutError):
        return str(error)

    if error.last_build is None:
        last_status = "its status could not be read"
    else:
        last_status = f"its last status was {error.last_build.status!r}"
    return (
        f"Build {error.build_id} did not reach a final status within wait_timeout_minutes "
        f"({error.timeout_seconds / 60:g} min), and {last_status}. Raise wait_timeout_minutes "
        "to wait longer."
    )


def _start_request(inputs: Mapping[str, Any]) -> StartBuildRequest:
    environment = inputs["environment"] or {}
    return StartBuildRequest(
        app_id=inputs["app_id"],
        workflow_id=inputs["workflow_id"],
        branch=inputs["branch"],
        tag=inputs["tag"],
        environment=BuildEnvironment(
            variables=environment.get("variables") or {},
            groups=environment.get("groups") or [],
            software_versions=environment.get("software_versions") or {},
        ),
        labels=list(inputs["labels"]),
        instance_type=inputs["instance_type"],
    )


def _inputs_from_build(build: Build, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Fill inputs missing from ``stored`` (a read without prior state) from the build."""
    if stored.get("app_id"):
        return {}
    filled = normalize_build_inputs(
        {
            "app_id": build.app_id,
            "workflow_id": build.workflow_id,
            "branch": build.branch,
            "tag": build.tag,
            "labels": list(build.labels),
            "instance_type": build.instance_type,
        }
    )
    return filled


def _differs(old: Any, new: Any) -> bool:
    return contains_unknown(new) or old != new


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)
