"""How many rows this machine can train on: what a train step holds per table row against the
memory this process may still take (the machine's available memory, capped by a container's
limit). A table too large stops before anything is generated or fitted, in one line.

The parsing is pure; ``free_memory`` only reads the files.
"""

from __future__ import annotations

from pathlib import Path

from grocery.cpus import CGROUP_ROOT
from grocery.errors import UserError

# A train step's peak memory per table row: its backtest copies, features and estimator inputs
# (measured 0.76-0.80 KiB a row at 10^6 rows of a chain, bench/series.py; rounded up).
BYTES_PER_ROW = 1024
MEMINFO = Path("/proc/meminfo")
GIB = 1 << 30


def meminfo_available(text: str) -> int | None:
    """``MemAvailable`` of a /proc/meminfo text, in bytes (None if absent)."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            return int(value.split()[0]) * 1024
    return None


def cgroup_room(limit: str | None, used: str | None) -> int | None:
    """What a cgroup v2 memory limit leaves (``memory.max`` minus ``memory.current``); None for
    no limit (``max``, missing or unreadable)."""
    try:
        return max(int(str(limit).strip()) - int(str(used).strip()), 0)
    except ValueError:
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def free_memory() -> int | None:
    """Bytes this process may still take: the machine's available memory, capped by its
    container's room; None when neither is known."""
    found = [meminfo_available(_read(MEMINFO) or ""),
             cgroup_room(_read(CGROUP_ROOT / "memory.max"),
                         _read(CGROUP_ROOT / "memory.current"))]
    known = [value for value in found if value is not None]
    return min(known) if known else None


def check_rows(rows: int, what: str, at_once: int = 1, free: int | None = None) -> None:
    """A UserError when ``at_once`` tables of ``rows`` rows (``what``: how the user asked for
    them) would not fit in ``free`` bytes (default: ``free_memory()``), saying how many fit."""
    free = free_memory() if free is None else free
    if free is None or rows * at_once * BYTES_PER_ROW <= free:
        return
    fits = free // (BYTES_PER_ROW * at_once)
    parallel = f" with {at_once} products at once (-P max_parallel)" if at_once > 1 else ""
    raise UserError(f"{what} is {rows:,} rows: training takes about "
                    f"{rows * BYTES_PER_ROW / GIB:.1f} GiB a product and this machine has "
                    f"{free / GIB:.1f} GiB free; it can take about {fits:,} rows a "
                    f"product{parallel}")
