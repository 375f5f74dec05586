"""How many CPUs this process may use: the CPUs it may run on, capped by its container's CPU
limit, at least one.

``os.cpu_count()`` counts the machine's cores. In a container the limit is a cgroup CPU quota
(a Kubernetes pod's ``limits.cpu: 2`` becomes ``200000 100000`` in cgroup v2's ``cpu.max``, or
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` in cgroup v1), and the CPUs it may run on are its
affinity. The parsing is pure; ``available_cpus`` only reads the files.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def quota_cpus(quota: str | None, period: str | None) -> float | None:
    """The CPUs a CFS quota allows (quota / period); None for no limit (``max``, ``-1``, a
    missing or unreadable value)."""
    try:
        allowed, length = int(str(quota).strip()), int(str(period).strip())
    except ValueError:
        return None
    return allowed / length if allowed > 0 and length > 0 else None


def usable_cpus(affinity: int, cpu_max: str | None = None, cfs_quota: str | None = None,
                cfs_period: str | None = None) -> int:
    """The smallest of ``affinity`` (the CPUs the process may run on), cgroup v2's ``cpu.max``
    (``"<quota> <period>"`` or ``"max <period>"``) and cgroup v1's quota over period, a
    fractional limit rounded up, at least 1."""
    words = (cpu_max or "").split()
    limits = [affinity, quota_cpus(cfs_quota, cfs_period),
              quota_cpus(words[0], words[1] if len(words) > 1 else "100000") if words else None]
    return max(1, min(math.ceil(limit) for limit in limits if limit is not None))


def cgroup_paths(proc_self_cgroup: str | None) -> dict[str, str]:
    """Controller -> the process's cgroup path, from ``/proc/self/cgroup`` (``""`` is cgroup
    v2's unified hierarchy; a v1 line may list several controllers, ``cpu,cpuacct``)."""
    paths: dict[str, str] = {}
    for line in (proc_self_cgroup or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2].strip()
    return paths


def _first_text(*paths: Path) -> str | None:
    """The text of the first of ``paths`` that can be read."""
    for path in paths:
        try:
            return path.read_text()
        except OSError:
            continue
    return None


def available_cpus() -> int:
    """The CPUs this process may use, from its affinity and its cgroup's CPU quota (in its own
    cgroup, or at the root when the container sees its cgroup as the root)."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count() or 1
    paths = cgroup_paths(_first_text(Path("/proc/self/cgroup")))
    v2 = CGROUP_ROOT / paths.get("", "/").lstrip("/")
    v1 = CGROUP_ROOT / "cpu" / paths.get("cpu", "/").lstrip("/")
    return usable_cpus(
        affinity, _first_text(v2 / "cpu.max", CGROUP_ROOT / "cpu.max"),
        _first_text(v1 / "cpu.cfs_quota_us", CGROUP_ROOT / "cpu" / "cpu.cfs_quota_us"),
        _first_text(v1 / "cpu.cfs_period_us", CGROUP_ROOT / "cpu" / "cpu.cfs_period_us"))
