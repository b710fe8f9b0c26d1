"""SQLite with a queue of writers.

keepscore's transactions start with ``BEGIN IMMEDIATE`` (the write lock at once, so two
writers never deadlock on an upgrade). When the lock is taken, SQLite's busy handler makes
the next writer sleep and retry — after a third of a second, every 100 ms — while a writer
arriving just as the lock is freed takes it first. With a few people recording at once, a
waiting request can lose that race again and again: one waited 18.9 s with 8 writers.

:class:`WriterQueue` puts the transactions of every process and thread using the database
in the order they asked: each takes a ticket, holds a lock file of its own, and waits only
for the one before it (an OS file lock, released the moment that transaction commits or
rolls back — or its process dies). ``BEGIN IMMEDIATE`` then finds the lock free. The wait is
bounded by the database's ``timeout`` (20 s), as SQLite's own is; past it the transaction
begins anyway and SQLite's busy handler takes over. Databases in memory (the tests') have
one connection and no queue.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

#: how often the head of the queue looks whether the transaction before it is over
POLL_SECONDS = 0.002


class WriterQueue:
    """FIFO order across processes for one database file, with lock files in
    ``<database>-writers/``: ``ticket`` (the next number) and one file per waiting or
    running transaction, named by its number."""

    def __init__(self, database: str) -> None:
        self.folder = Path(f"{database}-writers")
        self.folder.mkdir(exist_ok=True)

    def join(self, timeout: float) -> int:
        """Wait for this transaction's turn (at most ``timeout`` seconds); returns the lock
        file to hand to :meth:`leave`."""
        ticket = os.open(self.folder / "ticket", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(ticket, fcntl.LOCK_EX)
            number = int(os.pread(ticket, 32, 0) or b"0")
            os.pwrite(ticket, f"{number + 1:<31}".encode(), 0)
            mine = os.open(self.folder / str(number), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(mine, fcntl.LOCK_EX)  # held until this transaction is over
        finally:
            os.close(ticket)  # closing releases the ticket's lock
        self._after(number - 1, time.monotonic() + timeout)
        return mine

    def _after(self, previous: int, deadline: float) -> None:
        path = self.folder / str(previous)
        try:
            before = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return  # the first, or the one before is long over
        try:
            while True:
                try:
                    fcntl.flock(before, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        return
                    time.sleep(POLL_SECONDS)
            path.unlink(missing_ok=True)
        finally:
            os.close(before)

    @staticmethod
    def leave(mine: int) -> None:
        os.close(mine)  # releases its lock: the next transaction goes


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: WriterQueue | None = None
        self._turn: int | None = None

    def _queue_of(self) -> WriterQueue | None:
        if self._queue is None and not self.is_in_memory_db():
            self._queue = WriterQueue(str(self.settings_dict["NAME"]))
        return self._queue

    def _start_transaction_under_autocommit(self) -> None:
        queue = self._queue_of()
        if queue is not None and self._turn is None:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            self._turn = queue.join(timeout)
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._leave()
            raise

    def _leave(self) -> None:
        if self._turn is not None:
            WriterQueue.leave(self._turn)
            self._turn = None

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._leave()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._leave()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._leave()
