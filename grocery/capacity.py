"""How many rows this machine can train on: what a train step holds per table row against the
memory this process may still take (the machine's available memory, capped by a container's
limit). A table too large stops before anything is generated or fitted, in one line.

The parsing is pure; ``free_memory`` only reads the files.
"""

from __future__ import annotations

from pathlib import Path

from grocery.cpus import CGROUP_ROOT
from grocery.errors import UserError

# A train step's peak memory: a fixed part (its process and joblib's two workers, ~0.9 GiB)
# and a part per table row (its backtest copies, features and estimator inputs: 0.78-0.86 KiB
# an added row from 10^5 to 10^7 rows of a chain, docs/benchmarks.md); both rounded up.
FIXED_BYTES = 1 << 30
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
    need = FIXED_BYTES + rows * BYTES_PER_ROW
    if free is None or need * at_once <= free:
        return
    fits = max(free // at_once - FIXED_BYTES, 0) // BYTES_PER_ROW
    parallel = f" with {at_once} products at once (-P max_parallel)" if at_once > 1 else ""
    raise UserError(f"{what} is {rows:,} rows: training takes about {need / GIB:.1f} GiB a "
                    f"product and this machine has {free / GIB:.1f} GiB free; it can take about "
                    f"{fits:,} rows a product{parallel}")
