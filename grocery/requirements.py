"""The pinned runtime requirements, read from the project's one list."""

from __future__ import annotations

from pathlib import Path

REQUIREMENTS_PATH = Path(__file__).resolve().parent.parent / "requirements.txt"


def pinned_requirements(path: Path = REQUIREMENTS_PATH) -> list[str]:
    """The requirement lines of requirements.txt, without comments or blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]
