"""A minimal dynamic resource for checking that a Pulumi engine can run this package's providers.

`Echo` stores its inputs and returns them as outputs, with one computed output. It touches no
service, so a deployment that contains one tests only the machinery that every dynamic provider in
this package relies on: the engine pickles `EchoProvider` into the state, starts it again in the
`pulumi-resource-pulumi-python` plugin for each step, and sends outputs back to the program.

The end-to-end tests deploy it under the real engine before they deploy a `Build`. To check an
engine by hand, put this in a Python program and run `pulumi up`, then `pulumi destroy`:

    from pulumi_codemagic.testing.echo import Echo

    Echo("echo", text="hello")

A change of `text` replaces the resource; a change of any other input updates it in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi import dynamic

__all__ = ["ECHO_INPUT_NAMES", "Echo", "EchoProvider"]

ECHO_INPUT_NAMES = ("text", "count", "enabled", "tags", "labels", "secret")
"""Inputs that `EchoProvider` copies to outputs; `length` is computed from `text`."""

_REPLACE_ON_CHANGE = ("text",)


def _echo_outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    outs = {name: props.get(name) for name in ECHO_INPUT_NAMES}
    # The engine sends every number as a float, so whole numbers become int again here.
    count = outs["count"]
    if isinstance(count, float) and count.is_integer():
        outs["count"] = int(count)
    outs["length"] = len(str(props.get("text", "")))
    return outs


class EchoProvider(dynamic.ResourceProvider):
    """Provider of `Echo`: copies inputs to outputs and keeps nothing outside the Pulumi state."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = _echo_outputs(props)
        return dynamic.CreateResult(id_=f"echo-{outs['text']}", outs=outs)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dynamic.DiffResult:
        old_outs = _echo_outputs(_olds)
        new_outs = _echo_outputs(_news)
        changed = [name for name in ECHO_INPUT_NAMES if old_outs[name] != new_outs[name]]
        replaces = [name for name in changed if name in _REPLACE_ON_CHANGE]
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces)

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=_echo_outputs(_news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        # Nothing exists outside the state, so the state is the live value.
        return dynamic.ReadResult(id_=id_, outs=_echo_outputs(props))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Echo(dynamic.Resource, module="codemagic-testing", name="Echo"):
    """A resource whose outputs are its inputs; `secret` is always stored as a secret."""

    text: pulumi.Output[str]
    """The `text` input; its change replaces the resource."""
    count: pulumi.Output[int]
    """The `count` input."""
    enabled: pulumi.Output[bool]
    """The `enabled` input."""
    tags: pulumi.Output[list[str]]
    """The `tags` input."""
    labels: pulumi.Output[dict[str, str]]
    """The `labels` input."""
    secret: pulumi.Output[str]
    """The `secret` input, marked secret in the state and in stack outputs."""
    length: pulumi.Output[int]
    """The number of characters in `text`."""

    def __init__(
        self,
        resource_name: str,
        *,
        text: pulumi.Input[str],
        count: pulumi.Input[int] = 0,
        enabled: pulumi.Input[bool] = False,
        tags: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        labels: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        secret: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "text": text,
            "count": count,
            "enabled": enabled,
            "tags": tags if tags is not None else [],
            "labels": labels if labels is not None else {},
            "secret": secret,
            "length": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["secret"])
        super().__init__(
            EchoProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )
