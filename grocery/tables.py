"""Tables on disk, .csv or .parquet by their suffix: the one reader and writer of a user's files.

Every refusal is one line that starts with the file's name as the user gave it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pandas as pd

from grocery.errors import UserError, first_line

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


def same_file(one: str | Path, other: str | Path) -> bool:
    """Whether two paths name one file (the same path, or a link to it)."""
    one, other = Path(one), Path(other)
    if one.resolve() == other.resolve():
        return True
    try:
        return one.samefile(other)
    except OSError:  # either is missing: then they are not one existing file
        return False


def check_output(output: str | Path, source: str | Path | None) -> None:
    """Refuse an output name that is not a table's, or that names ``source``, the file the
    output is computed from (writing it would destroy the input)."""
    table_kind(output)
    if source and same_file(output, source):
        raise UserError(f"{output}: this is the input file; write the output to another file")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as .csv or .parquet by the suffix of ``path``; return the path.

    The table is written to a temporary file beside ``path`` and renamed over it, so a reader
    never sees half a table and a failed write leaves the old file as it was.
    """
    kind, target = table_kind(path), Path(path)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            frame.to_csv(partial, index=False)
        else:
            frame.to_parquet(partial, index=False)
        os.replace(partial, target)
    except OSError as error:
        raise UserError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return target
