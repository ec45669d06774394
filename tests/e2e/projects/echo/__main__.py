"""Deploy one Echo and export its outputs, plus the Python type that the program gets for each."""

from typing import Any

import pulumi

from pulumi_codemagic.testing.echo import Echo

config = pulumi.Config()

echo = Echo(
    "echo",
    text=config.get("text") or "hello",
    count=3,
    enabled=True,
    tags=["alpha", "beta"],
    labels={"team": "mobile"},
    secret=config.require_secret("secret"),
)


def type_names(values: dict[str, Any]) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in values.items()}


pulumi.export("text", echo.text)
pulumi.export("count", echo.count)
pulumi.export("enabled", echo.enabled)
pulumi.export("tags", echo.tags)
pulumi.export("labels", echo.labels)
pulumi.export("secret", echo.secret)
pulumi.export("length", echo.length)
pulumi.export(
    "program_types",
    pulumi.Output.all(
        text=echo.text,
        count=echo.count,
        enabled=echo.enabled,
        tags=echo.tags,
        labels=echo.labels,
        length=echo.length,
    ).apply(type_names),
)
