"""Which process a run belongs to, and whether that process still lives.

A run left RUNNING by a process that was killed, or that lost the tracking server before it
could end its run, looks like any other running run. Each pipeline and register run records
``<host>:<pid>:<start>`` of the process that ends it; on the same host a later pipeline can then
tell for sure that the process is gone (the start time guards against a reused pid). A run
recorded on another host can never be proven dead this way.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

UNKNOWN_START = "?"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), ``?`` where /proc is
    missing, None if no such process runs."""
    if Path("/proc/self/stat").exists():
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return UNKNOWN_START


def process_identity(pid: int | None = None) -> str:
    """``<host>:<pid>:<start>`` of process ``pid`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or UNKNOWN_START}"


def process_gone(identity: str | None) -> bool:
    """True only when ``identity`` names a process of this host that no longer runs (or whose
    pid now belongs to a later process); unknown or another host's processes are not gone."""
    if not identity or identity.count(":") < 2:
        return False
    host, pid, start = identity.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit():
        return False
    now = _start_time(int(pid))
    return now is None or (UNKNOWN_START not in (now, start) and now != start)
