"""grocery.liveness: a process's identity, and telling a dead process from a live one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from grocery.liveness import process_gone, process_identity


def test_this_process_lives_and_a_killed_one_is_gone():
    assert process_identity().startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert not process_gone(process_identity())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    identity = process_identity(child.pid)
    assert not process_gone(identity)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert process_gone(identity)


def test_a_reused_pid_is_gone_and_the_unknown_is_not():
    host, pid, start = process_identity().rsplit(":", 2)
    assert process_gone(f"{host}:{pid}:{int(start) - 1}")  # the pid now runs a later process
    assert not process_gone(f"another-host:{pid}:1")
    assert not process_gone(None)
    assert not process_gone("not an identity")
