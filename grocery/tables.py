"""Tables on disk, .csv or .parquet by their suffix: the one reader and writer of a user's files.

Every refusal is one line that starts with the file's name as the user gave it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from grocery.errors import UserError

# Suffix -> format; the one list of the table files the project reads and writes.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_kind(name: str | Path) -> str:
    """``csv`` or ``parquet`` from the name's suffix (of a path or of a URI's path)."""
    name = str(name)
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{name}: not a .csv or .parquet file; name the file with one of those "
                        "suffixes")
    return FORMATS[suffix]


def first_line(error: BaseException) -> str:
    """The first line of an error's message (a reader's or a download's may run to many)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def read_table(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """The rows of the table at ``path``; messages call it ``name`` (what the user passed, when
    ``path`` is a local copy of it)."""
    name = str(path) if name is None else name
    kind, path = table_kind(name), Path(path)
    if not path.exists():
        where = "" if str(path.resolve()) == name else f" (looked for {path.resolve()})"
        raise UserError(f"{name}: no such file{where}")
    if path.is_file() and path.stat().st_size == 0:
        raise UserError(f"{name}: the file is empty")
    try:
        frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise UserError(f"{name}: the file is empty") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UserError(f"{name}: cannot read it as {kind}: {first_line(error)}") from None
    if len(frame.columns) == 0:
        raise UserError(f"{name}: the file is empty")
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as .csv or .parquet by the suffix of ``path``; return the path."""
    kind, target = table_kind(path), Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
    except OSError as error:
        raise UserError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
    return target
