"""``keepscore worker``: the background worker (django-q2's cluster) alone, and the child
process ``keepscore serve`` starts beside gunicorn."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

from keepscore.cli.common import (
    database_check,
    django_setup,
    errors,
    migrate_if_needed,
    say,
)

#: seconds ``keepscore serve`` gives the worker to finish its task when it stops
STOP_GRACE = 10


def worker() -> None:
    """Run the background worker: web imports of big files and the scorecard PDFs.

    Its queue is a table of the app's database, so it needs no other server. ``keepscore
    serve`` starts one beside the web server; run this where the web server is started some
    other way. An import cut short by a stop of the worker is marked failed when it starts
    again (nothing of it was kept).
    """
    with errors():
        django_setup()
        database_check()
        migrate_if_needed()

        from django.core.management import call_command

        from keepscore.common.schedules import schedules_ensure
        from keepscore.imports.mapping import jobs_interrupted_close

        closed = jobs_interrupted_close(None)
        if closed:
            say(f"Marked {closed} import(s) cut short by the last stop as failed.")
        schedules_ensure()
        say("keepscore worker is running — Ctrl+C stops")
        call_command("qcluster")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the worker gets SIGTERM if ``keepscore serve`` is killed outright."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def worker_start() -> subprocess.Popen[bytes]:
    """``keepscore worker`` as a child process, in a process group of its own (stopped by
    :func:`worker_stop`, not by a Ctrl+C meant for gunicorn's graceful stop)."""
    return subprocess.Popen(
        [sys.executable, "-m", "keepscore.cli.main", "worker"],
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def worker_stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the worker (and its processes) to stop; kill them after :data:`STOP_GRACE` s."""
    if process.poll() is not None:
        return
    # to the cluster's main process only: it stops its own (a SIGTERM to each of them at
    # once leaves the cluster waiting for processes already gone)
    process.terminate()
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
