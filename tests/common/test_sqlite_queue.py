"""SQLite's writers in the order they asked (``keepscore.common.sqlite``): the queue is
first come, first served across threads and processes, a transaction waits only for the
one before it, a process that dies frees its turn, and the backend takes its turn before
``BEGIN IMMEDIATE`` and gives it back on commit, rollback or close."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.db.utils import ConnectionHandler

from keepscore.common.sqlite.base import DatabaseWrapper, WriterQueue

HOLD = 0.05


def test_first_come_first_served_across_threads(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db.sqlite3"))
    entered: list[tuple[int, float, float]] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        mine = queue.join(timeout=10)
        start = time.monotonic()
        time.sleep(HOLD)
        end = time.monotonic()
        with lock:
            entered.append((i, start, end))
        WriterQueue.leave(mine)

    ticket = tmp_path / "db.sqlite3-writers" / "ticket"

    def tickets_taken() -> int:
        try:
            return int(ticket.read_bytes() or b"0")
        except (FileNotFoundError, ValueError):  # (not written yet, or being written)
            return 0

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for i, t in enumerate(threads):
        t.start()
        # they ask in the order of i: the next starts once this one holds its ticket (a
        # stagger of 10 ms let a thread the loaded machine woke late ask after the next)
        deadline = time.monotonic() + 10
        while tickets_taken() < i + 1:
            assert time.monotonic() < deadline, f"writer {i} never asked"
            time.sleep(0.001)
    for t in threads:
        t.join()
    entered.sort(key=lambda e: e[1])
    assert [i for i, _s, _e in entered] == list(range(6))  # in the order they asked
    for (_i, _s, end), (_j, start, _e) in pairwise(entered):
        assert start >= end  # never two at once


def test_a_process_that_dies_frees_its_turn(tmp_path: Path) -> None:
    database = str(tmp_path / "db.sqlite3")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from keepscore.common.sqlite.base import WriterQueue;"
            f"WriterQueue({database!r}).join(5); print('in', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "in"
    queue = WriterQueue(database)
    started = time.monotonic()
    waiting = threading.Thread(target=lambda: WriterQueue.leave(queue.join(timeout=30)))
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive()  # its turn is after the living holder's
    holder.kill()
    holder.wait()
    waiting.join(timeout=5)
    assert not waiting.is_alive() and time.monotonic() - started < 5


def test_a_turn_never_waited_past_the_timeout(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db.sqlite3"))
    first = queue.join(timeout=1)
    started = time.monotonic()
    second = queue.join(timeout=0.2)  # the first never leaves: the second goes on anyway
    assert 0.2 <= time.monotonic() - started < 2
    WriterQueue.leave(second)
    WriterQueue.leave(first)


def _wrapper(name: str) -> Any:
    """A connection of its own to a SQLite file (whatever database the suite runs on)."""
    options = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    handler = ConnectionHandler(
        {"default": {"ENGINE": "keepscore.common.sqlite", "NAME": name, "OPTIONS": options}}
    )
    wrapper = handler.create_connection("default")
    assert isinstance(wrapper, DatabaseWrapper)
    return wrapper


def test_the_backend_waits_for_its_turn_before_begin(tmp_path: Path, django_db_blocker: Any):
    name = str(tmp_path / "db.sqlite3")
    django_db_blocker.unblock()
    first = _wrapper(name)
    first.connect()
    first.cursor().execute("CREATE TABLE t (n integer)")
    first._start_transaction_under_autocommit()
    first.cursor().execute("INSERT INTO t VALUES (1)")
    began: list[float] = []

    def other() -> None:
        second = _wrapper(name)  # a connection belongs to its thread
        second.connect()
        second._start_transaction_under_autocommit()
        began.append(time.monotonic())
        second.cursor().execute("INSERT INTO t VALUES (2)")
        second._commit()
        second.close()

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.3)
    assert not began  # the second waits in the queue, not in SQLite's busy loop
    committed = time.monotonic()
    first._commit()
    thread.join(timeout=5)
    assert began and began[0] >= committed
    assert first.cursor().execute("SELECT n FROM t ORDER BY n").fetchall() == [(1,), (2,)]
    first._start_transaction_under_autocommit()  # a rollback gives the turn back too
    first._rollback()
    first.close()
    assert first._turn is None
