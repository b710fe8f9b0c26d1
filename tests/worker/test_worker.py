"""The background worker for real: ``keepscore worker`` and ``keepscore serve`` as processes
on a file SQLite database under a temporary KEEPSCORE_HOME; the app's side goes through its
views in another process (``tests/worker/driver.py``), as a browser's requests would."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from keepscore.imports.mapping import INTERRUPTED
from tests.cli.test_cli import KEEPSCORE, free_port, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
SMALL = [
    ("Ada Lovelace", "ada@example.com", "referral", "lead", "2024-01-05"),
    ("Grace Hopper", "grace@example.com", "trade fair", "lead", "2024-02-11"),
    ("Alan Turing", "alan@example.com", "referral", "lead", "2024-03-20"),
]
BIG_ROWS = 40_000  # 2.3 MB: about a second of checking, then seconds of writing


def _env(home: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess_env(home, PYTHONPATH=path, **extra)


def drive(home: Path, *args: str, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.worker.driver", *args],
        env=_env(home, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def status(home: Path, job_pk: int) -> dict[str, Any]:
    """The job's row and the number of leads, read from the database file directly."""
    with sqlite3.connect(home / "keepscore.sqlite3") as db:
        state, created, report = db.execute(
            "SELECT status, created, report FROM imports_importjob WHERE id = ?", (job_pk,)
        ).fetchone()
        (leads,) = db.execute("SELECT count(*) FROM leads_lead").fetchone()
    db.close()
    problems = json.loads(report or "{}").get("problems", [])
    return {"status": state, "created": created, "problems": problems, "leads": leads}


def _csv(path: Path, rows: Sequence[tuple[str, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "email", "source", "stage", "created"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("keepscore-home")
    assert drive(home, "setup")["org"]
    return home


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def worker(home: Path) -> Iterator[Any]:
    """Start ``keepscore worker`` (in its own process group); yields a starter."""
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*KEEPSCORE, "worker"],
            env=_env(home),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()  # the cluster's main process stops the others
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout:
            process.stdout.close()


def test_serve_starts_the_worker_and_a_web_import_runs_in_it(home: Path, tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*KEEPSCORE, "serve", "--port", str(port), "--workers", "1", "--no-access-log"],
        env=_env(home),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        worker_pid = None
        deadline = time.monotonic() + 60
        while worker_pid is None and time.monotonic() < deadline and server.poll() is None:
            worker_pid = next((p for p, cmd in _children(server.pid) if " worker" in cmd), None)
            time.sleep(0.2)
        assert worker_pid is not None, server.poll()

        # a 3-row file counts as big here, so the web import goes to the worker
        started = drive(
            home, "import", str(_csv(tmp_path / "small.csv", SMALL)), IMPORTS_INLINE_BELOW="10"
        )
        assert started["status"] == "running" and started["phase"] == "queued"
        assert started["waiting"]  # the page says it waits for the worker
        done = drive(home, "wait", str(started["job"]), "60")
        assert done["status"] == "imported", done["problems"]
        assert done["created"] == len(SMALL) and done["leads"] == started["leads"] + len(SMALL)
        assert done["polls"] >= 1 and "hx-trigger" not in done["partial"]
        assert "Imported" in done["partial"] and f">{len(SMALL)}<" in done["partial"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert "Traceback" not in out + err
    assert "background worker" in out
    deadline = time.monotonic() + 15
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid)  # stopped with the server


def _progress(home: Path) -> tuple[str, int] | None:
    for path in (home / "imports").rglob("*.progress"):
        try:
            phase, percent = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        return phase, percent
    return None


def test_a_worker_killed_mid_import_keeps_nothing_and_the_job_ends_failed(
    home: Path, tmp_path: Path, worker: Any
) -> None:
    rows = [
        (f"Person {i}", f"person{i}@big.example", "referral", "lead", "2024-01-05")
        for i in range(BIG_ROWS)
    ]
    big = _csv(tmp_path / "big.csv", rows)
    assert big.stat().st_size >= 2 * 1024 * 1024  # big by the served rule: to the worker
    process = worker()
    started = drive(home, "import", str(big))
    assert started["status"] == "running"
    leads_before = started["leads"]

    seen = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = _progress(home)
        if seen is not None and seen[0] == "writing":
            break
        time.sleep(0.02)
    assert seen is not None and seen[0] == "writing", seen
    assert seen[1] < 100
    os.killpg(process.pid, signal.SIGKILL)  # the worker and its processes, mid-write
    process.wait(10)

    after_kill = status(home, started["job"])
    assert after_kill["status"] == "running"  # nobody has looked yet
    assert after_kill["leads"] == leads_before  # the write was one transaction: nothing kept

    again = worker()  # its start marks the job failed
    assert again.stdout is not None
    line = again.stdout.readline()
    assert "Marked 1 import(s) cut short" in line, line
    ended = status(home, started["job"])
    assert ended["status"] == "failed" and ended["problems"] == [INTERRUPTED]
    assert "the worker stopped" in INTERRUPTED
    assert ended["leads"] == leads_before and ended["created"] == 0
    page = drive(home, "wait", str(started["job"]), "1")["page"]
    assert "interrupted: the worker stopped" in page
