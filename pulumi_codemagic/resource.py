"""The ``Build`` resource: one Codemagic build, started and awaited by ``pulumi up``.

A ``Build`` starts a workflow of a Codemagic application on a branch or tag, waits until the
build ends, and exposes its status and artefacts as outputs. Like a command resource, the build
runs once when the resource is created and not again while its inputs stay the same. Change
``triggers`` (for example to a commit SHA) to run a new build on the next deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from .outputs import BUILD_OUTPUT_PROPERTIES
from .provider import BuildProvider

__all__ = ["Build", "BuildArtefact", "BuildEnvironmentArgs"]


@dataclass(frozen=True)
class BuildEnvironmentArgs:
    """Environment of one build: variables, variable groups and software versions.

    Everything here is sent with the start request and overrides the application's and the
    team's settings for this build only. A change replaces the build. A plain dict with the same
    keys (``software_versions`` may also be spelled ``softwareVersions``) works as well.
    """

    variables: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Environment variables by name. Names match ``[A-Za-z_][A-Za-z0-9_]*`` and values are
    strings. Values are stored in the stack state, so pass secrets through
    ``pulumi.Output.secret`` or use ``groups`` instead."""

    groups: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Names of variable groups defined in Codemagic to add to the build."""

    software_versions: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Tool versions by tool, such as ``{"flutter": "3.24.0", "xcode": "15.4"}``."""

    def to_dict(self) -> dict[str, Any]:
        """Return the environment as the map the provider receives, leaving out unset parts."""
        result: dict[str, Any] = {}
        if self.variables is not None:
            result["variables"] = self.variables
        if self.groups is not None:
            result["groups"] = self.groups
        if self.software_versions is not None:
            result["software_versions"] = self.software_versions
        return result


@pulumi.output_type
class BuildArtefact(dict[str, Any]):
    """A file the build produced, readable as a dict (``artefact["url"]``) or by attribute."""

    def __init__(
        self,
        *,
        name: str,
        type: str | None = None,
        url: str,
        md5: str | None = None,
        size: int | None = None,
        version_name: str | None = None,
        package_name: str | None = None,
    ) -> None:
        pulumi.set(self, "name", name)
        pulumi.set(self, "type", type)
        pulumi.set(self, "url", url)
        pulumi.set(self, "md5", md5)
        pulumi.set(self, "size", size)
        pulumi.set(self, "version_name", version_name)
        pulumi.set(self, "package_name", package_name)

    @property
    @pulumi.getter
    def name(self) -> str:
        """File name, such as ``app-release.apk``."""
        return pulumi.get(self, "name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def type(self) -> str | None:
        """Kind of file, such as ``apk``, ``aab`` or ``ipa``."""
        return pulumi.get(self, "type")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def url(self) -> str:
        """Download URL; it needs the API token in the ``x-auth-token`` header."""
        return pulumi.get(self, "url")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def md5(self) -> str | None:
        """MD5 checksum of the file, as hex."""
        return pulumi.get(self, "md5")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def size(self) -> int | None:
        """Size of the file, in bytes."""
        return pulumi.get(self, "size")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def version_name(self) -> str | None:
        """App version name read from the package."""
        return pulumi.get(self, "version_name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def package_name(self) -> str | None:
        """Android package name or iOS bundle id."""
        return pulumi.get(self, "package_name")  # type: ignore[no-any-return]


_OUTPUT_ONLY_PROPERTIES = (
    *BUILD_OUTPUT_PROPERTIES,
    "public_artefact_urls",
    "public_artefact_urls_expire_at",
)

_SECRET_OUTPUTS = ["public_artefact_urls"]


class Build(pulumi.dynamic.Resource, module="codemagic", name="Build"):
    """A Codemagic build of one workflow on one branch or tag.

    ``pulumi up`` starts the build when the resource is created, shows each status change
    with the build number and page URL, and waits until the build ends. The create fails, and
    nothing is recorded, when the build ends outside ``success_statuses``, when
    ``wait_timeout_minutes`` passes (the build is canceled), or when anything else fails after
    the start (the build is canceled). A later ``pulumi up`` then starts a new build.

    Inputs fall in two groups:

    * What is built (``app_id``, ``workflow_id``, ``branch``/``tag``, ``environment``,
      ``labels``, ``instance_type``, ``triggers``): a change replaces the resource, so a new build
      runs. The old build is canceled afterwards if it is still running and
      ``cancel_on_delete`` is true.
    * How the provider waits and cleans up (``wait_for_completion``, ``wait_timeout_minutes``,
      ``poll_interval_seconds``, ``success_statuses``, ``cancel_on_delete``,
      ``public_artefact_url_ttl_hours``): a change updates the stored setting in place and runs
      no build. A new setting takes effect at the next build or delete.

    ``pulumi refresh`` reads the build again and updates ``status``, ``message``, the
    timestamps and the artefacts. A build that Codemagic reports as not found is dropped from
    the state. ``pulumi destroy`` cancels the build if it is still running.

    The provider reads the API token from the secret stack setting ``codemagic:token``
    (``pulumi config set --secret codemagic:token <token>``), then from the environment
    variables ``CODEMAGIC_API_TOKEN`` and ``CM_API_TOKEN``. ``codemagic:apiUrl`` or
    ``CODEMAGIC_API_URL`` point it at another API address, such as a local emulator.
    """

    build_id: pulumi.Output[str]
    """Codemagic build id (24 hexadecimal characters); also the resource id."""

    status: pulumi.Output[str]
    """Build status at the end of the create or the last refresh, such as ``finished``,
    ``failed`` or (without waiting) ``queued``."""

    build_number: pulumi.Output[int | None]
    """Build number within the application (Codemagic's ``index``)."""

    build_url: pulumi.Output[str]
    """Address of the build's page, ``https://codemagic.io/app/<appId>/build/<buildId>``."""

    message: pulumi.Output[str | None]
    """Codemagic's reason for a failure, such as ``Failed to clone repository``; null
    otherwise."""

    started_at: pulumi.Output[str | None]
    """Start time of the build as an ISO 8601 string in UTC; null while queued."""

    finished_at: pulumi.Output[str | None]
    """End time of the build as an ISO 8601 string in UTC; null while running."""

    artefacts: pulumi.Output[list[BuildArtefact]]
    """Files the build produced, each with ``name``, ``type``, ``url``, ``md5``, ``size`` (bytes),
    ``version_name`` and ``package_name``."""

    artefact_urls: pulumi.Output[dict[str, str]]
    """Download URL of each artefact by file name. The URLs need the API token. When two
    artefacts share a name, the first one is kept here; ``artefacts`` lists both."""

    public_artefact_urls: pulumi.Output[dict[str, str]]
    """Secret. Download URLs that need no token, by artefact file name. They are created when
    ``public_artefact_url_ttl_hours`` is set and the create waited for the build to end, and
    the map is empty otherwise. Anyone holding one can download the file until it expires."""

    public_artefact_urls_expire_at: pulumi.Output[str | None]
    """Earliest expiry of ``public_artefact_urls`` as an ISO 8601 string, as Codemagic returned
    it; null when there are none."""

    app_id: pulumi.Output[str]
    """Codemagic application id."""

    workflow_id: pulumi.Output[str]
    """Workflow key in codemagic.yaml."""

    branch: pulumi.Output[str | None]
    """Built branch, or null for a tag build."""

    tag: pulumi.Output[str | None]
    """Built tag, or null for a branch build."""

    environment: pulumi.Output[dict[str, Any]]
    """Environment sent with the start request, as a map with ``variables``, ``groups`` and
    ``software_versions``."""

    labels: pulumi.Output[list[str]]
    """Labels sent with the start request."""

    instance_type: pulumi.Output[str | None]
    """Machine type sent with the start request, or null for the workflow's own."""

    triggers: pulumi.Output[list[Any]]
    """Values whose change starts a new build."""

    wait_for_completion: pulumi.Output[bool]
    """Whether the create waits for the build to end."""

    wait_timeout_minutes: pulumi.Output[float]
    """Deadline of the wait, in minutes."""

    poll_interval_seconds: pulumi.Output[float]
    """Maximum pause between two status requests, in seconds."""

    success_statuses: pulumi.Output[list[str]]
    """Terminal statuses that count as success, sorted."""

    cancel_on_delete: pulumi.Output[bool]
    """Whether deleting the resource cancels a running build."""

    public_artefact_url_ttl_hours: pulumi.Output[int | None]
    """Lifetime of public artefact URLs, in hours, or null when none are created."""

    def __init__(
        self,
        resource_name: str,
        *,
        app_id: pulumi.Input[str],
        workflow_id: pulumi.Input[str],
        branch: pulumi.Input[str] | None = None,
        tag: pulumi.Input[str] | None = None,
        environment: pulumi.Input[BuildEnvironmentArgs | Mapping[str, Any]] | None = None,
        labels: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        instance_type: pulumi.Input[str] | None = None,
        triggers: pulumi.Input[Sequence[Any]] | None = None,
        wait_for_completion: pulumi.Input[bool] | None = None,
        wait_timeout_minutes: pulumi.Input[float] | None = None,
        poll_interval_seconds: pulumi.Input[float] | None = None,
        success_statuses: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        cancel_on_delete: pulumi.Input[bool] | None = None,
        public_artefact_url_ttl_hours: pulumi.Input[int] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a Codemagic build.

        :param resource_name: Pulumi name of the resource.
        :param app_id: Codemagic application id, as in the app's URL. Replaces the build.
        :param workflow_id: Key of the workflow under ``workflows:`` in codemagic.yaml (not its
            display ``name``). Replaces the build.
        :param branch: Git branch to build. Set exactly one of ``branch`` and ``tag``.
            Replaces the build.
        :param tag: Git tag to build. Set exactly one of ``branch`` and ``tag``. Replaces the
            build.
        :param environment: Variables, variable groups and software versions for this build,
            as :class:`BuildEnvironmentArgs` or a dict with the keys ``variables``, ``groups``
            and ``software_versions``. None by default. Replaces the build.
        :param labels: Labels added to the build, beside those in codemagic.yaml. None by
            default. Replaces the build.
        :param instance_type: Build machine type, such as ``mac_mini_m2`` or ``linux_x2``. By
            default the workflow's own. Replaces the build.
        :param triggers: Values of any type. A change starts a new build, for example
            ``[commit_sha]``. Empty by default. Replaces the build.
        :param wait_for_completion: Whether the create waits until the build ends. True by
            default. With false, the create returns once the build is started, and
            ``pulumi refresh`` updates its status later. Updates in place.
        :param wait_timeout_minutes: Deadline of the wait, in minutes, from more than 0 to
            1440. The default, 180, covers Codemagic's 120-minute build limit plus queue time.
            At the deadline the build is canceled and the create fails. Updates in place.
        :param poll_interval_seconds: Maximum pause between two status requests, in seconds,
            from 1 to 600; 30 by default. Polling starts faster and slows down to this value.
            Updates in place.
        :param success_statuses: Terminal statuses that count as success, from ``finished``,
            ``warning``, ``failed``, ``canceled``, ``timeout`` and ``skipped``. By default
            ``["finished", "warning"]``. Updates in place.
        :param cancel_on_delete: Whether deleting the resource (destroy, or replacement by a
            new build) cancels the build if it is still running. True by default. Updates in
            place.
        :param public_artefact_url_ttl_hours: When set, the create also makes a public download
            URL for each artefact, valid for this many hours (1 to 8760), exposed as the secret
            output ``public_artefact_urls``. None by default. A change updates the setting in
            place and takes effect at the next build.
        :param opts: Resource options. ``public_artefact_urls`` is always added to
            ``additional_secret_outputs``.
        """
        if isinstance(environment, BuildEnvironmentArgs):
            environment = environment.to_dict()
        elif isinstance(environment, pulumi.Output):
            environment = environment.apply(_environment_to_dict)

        props: dict[str, Any] = {
            "app_id": app_id,
            "workflow_id": workflow_id,
            "branch": branch,
            "tag": tag,
            "environment": environment,
            "labels": labels,
            "instance_type": instance_type,
            "triggers": triggers,
            "wait_for_completion": wait_for_completion,
            "wait_timeout_minutes": wait_timeout_minutes,
            "poll_interval_seconds": poll_interval_seconds,
            "success_statuses": success_statuses,
            "cancel_on_delete": cancel_on_delete,
            "public_artefact_url_ttl_hours": public_artefact_url_ttl_hours,
        }
        props.update({name: None for name in _OUTPUT_ONLY_PROPERTIES})

        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=_SECRET_OUTPUTS)
        super().__init__(
            BuildProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )


def _environment_to_dict(value: Any) -> Any:
    if isinstance(value, BuildEnvironmentArgs):
        return value.to_dict()
    return value
