"""Command-line plumbing shared by the step scripts."""

from __future__ import annotations

from grocery.errors import UserError


def extra_params(rest: list[str]) -> dict[str, str]:
    """Parameters not declared in MLproject, which `mlflow run` appends as ``--name value``."""
    if len(rest) % 2 or not all(key.startswith("--") for key in rest[::2]):
        raise UserError(f"cannot read parameters {' '.join(rest)!r}; use -P name=value")
    return {key[2:]: value for key, value in zip(rest[::2], rest[1::2], strict=True)}
