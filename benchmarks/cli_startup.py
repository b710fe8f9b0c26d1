"""How long a ``keepscore`` command takes from start to end, as a person runs it. Not a test.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5] [--home DIR]

In a temporary KEEPSCORE_HOME (SQLite; or ``--home`` with an organization already there) it
runs ``keepscore migrate`` and ``keepscore demo`` once (the demo organization: about two
thousand leads, two years), then times, each in a fresh process, ``--runs`` times after a
warm-up run:

- ``keepscore --help``;
- ``keepscore scorecard`` (this month's scorecard of the demo, as a table);
- ``keepscore scorecard --month <last month> --format pdf``: once with no PDF kept (it is
  rendered and kept), then ``--runs`` times more (the kept one is sent).

It prints the median wall time and the median CPU time (user + system, less sensitive to
other work on the machine) of each. The processes write their bytecode under a temporary
``PYTHONPYCACHEPREFIX`` (as an installed package has its ``.pyc`` files), whatever
PYTHONDONTWRITEBYTECODE says. Which modules a command loads is pinned by
``tests/cli/test_startup.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

KEEPSCORE = [sys.executable, "-m", "keepscore.cli.main"]


def environment(home: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        KEEPSCORE_HOME=str(home),
        DJANGO_SETTINGS_MODULE="keepscore.config.settings",
        PYTHONPYCACHEPREFIX=str(cache),
    )
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``keepscore ARGS`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(KEEPSCORE + args, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"keepscore {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def medians(args: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float]:
    run(args, env, cwd)  # warm-up: bytecode written, files in the page cache
    times = [run(args, env, cwd) for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--home", type=Path, help="a KEEPSCORE_HOME with the demo already")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        home = options.home or work / "home"
        env = environment(home, work / "pycache")
        if options.home is None:
            home.mkdir()
            print("migrate and demo (once)…", flush=True)
            run(["migrate"], env, work)
            run(["demo"], env, work)
        last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        pdf = ["scorecard", "--month", last_month, "--format", "pdf", "--out", "card.pdf"]
        print(f"median of {options.runs} runs (after a warm-up):")
        for label, args in (
            ("keepscore --help", ["--help"]),
            ("keepscore scorecard", ["scorecard"]),
        ):
            wall, cpu = medians(args, env, work, options.runs)
            print(f"  {label:<40} {wall:6.2f} s wall  {cpu:6.2f} s CPU", flush=True)
        # the PDF: a month's first export renders it (as after any change to the data),
        # the next ones send the kept file
        for kept in (home / "pdf").glob("*/kept/*.pdf"):
            kept.unlink()
        first = run(pdf, env, work)
        wall, cpu = medians(pdf, env, work, options.runs)
        for label, (w, c) in (("pdf, first (rendered)", first), ("pdf, again (kept)", (wall, cpu))):
            print(f"  keepscore scorecard --format {label:<22} {w:6.2f} s wall  {c:6.2f} s CPU")


if __name__ == "__main__":
    main()
