"""Helpers for tests that start real servers (SeaweedFS, a Celery worker process)."""

from __future__ import annotations

import sys


def die_with_parent() -> None:
    """A `preexec_fn` for subprocess.Popen: the kernel kills the child when the process that
    started it dies (a crash, a CI timeout), so that no server is left behind on the machine.
    Linux only; elsewhere it does nothing."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
