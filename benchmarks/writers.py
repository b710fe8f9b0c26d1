"""Concurrent writers: how long a busy team waits when everyone records at once.

Builds the demo organization (or uses ``--home`` with one), serves it with ``keepscore
serve`` (gunicorn, its default 2 workers, 4 threads each), and runs ``--writers`` clients for
``--seconds``, each signed in as a member and doing what people do between customers:
add a lead, log a call on it, move it a stage on (one write request each, in turn). Prints
the latency of the writes (median, p95, worst), how many were done, and any errors, and
writes ``benchmarks/writers.json``. Not a test.

    .venv/bin/python benchmarks/writers.py [--writers 8] [--seconds 60] [--home DIR]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "writers.json"
PASSWORD = "Tally-ho-7319-quill"
KS = [str(Path(sys.executable).with_name("keepscore"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ks(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*KS, *args], env=env, check=True, capture_output=True, text=True, timeout=1800
    )
    return done.stdout


def python(env: dict[str, str], code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"setting up failed:\n{done.stderr[-2000:]}")
    return done.stdout


def members_make(env: dict[str, str], org: str, n: int) -> list[str]:
    """``n`` sales members with a known password (made once; kept by --home)."""
    code = f"""
from keepscore.cli.common import django_setup
django_setup()
from keepscore.accounts.models import Membership, Organization, User
from keepscore.accounts.services import member_add, user_create
org = Organization.objects.get(slug={org!r})
for i in range({n}):
    email = f"writer{{i}}@bench.test"
    user = User.objects.filter(email=email).first()
    user = user or user_create(email=email, password={PASSWORD!r})
    if not Membership.objects.filter(organization=org, user=user).exists():
        member_add(organization=org, user=user, is_sales=True)
print(",".join(f"writer{{i}}@bench.test" for i in range({n})))
"""
    return python(env, code).strip().split(",")


@dataclass
class Writer:
    base: str
    org: str
    email: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def _get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as r:
            return str(r.read().decode())

    def _post(self, path: str, data: dict[str, str], timed: bool = True) -> str:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self._csrf()}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as r:
                status, location = r.status, r.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            status, location = error.code, error.headers.get("Location", "")
        elapsed = time.perf_counter() - started
        if timed:
            self.latencies.append(elapsed)
        if status not in (200, 302):
            self.errors.append(f"{status} on POST {path}")
        return str(location)

    def sign_in(self) -> None:
        self._get("/login/")
        self._post("/login/", {"username": self.email, "password": PASSWORD}, timed=False)

    def run(self, until: float, channel: str, stages: list[str], seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < until:
            where = self._post(
                f"/o/{self.org}/leads/add/",
                {"name": f"Walk-in {rng.randrange(10**9)}", "channel": channel},
            )
            found = re.search(r"/leads/(\d+)/", where)
            if not found:
                self.errors.append(f"no lead page after adding: {where!r}")
                continue
            lead = found.group(1)
            if time.perf_counter() >= until:
                break
            self._post(f"/o/{self.org}/leads/{lead}/log/", {"what": "reached", "notes": "hi"})
            if time.perf_counter() >= until:
                break
            self._post(f"/o/{self.org}/leads/{lead}/move/", {"to_stage": rng.choice(stages)})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def ids(env: dict[str, str], org: str) -> tuple[str, list[str]]:
    """A channel id and the ids of the open stages after the first (for the moves)."""
    code = f"""
from keepscore.cli.common import django_setup
django_setup()
from keepscore.leads.models import Channel, Stage
ch = Channel.objects.filter(organization__slug={org!r}, active=True).order_by("pk").first()
st = Stage.objects.filter(organization__slug={org!r}, kind="open").order_by("position")
print(ch.pk, *[s.pk for s in st][1:3])
"""
    first, *rest = python(env, code).split()
    return first, rest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--home", type=Path, help="KEEPSCORE_HOME with the demo (kept)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    home = args.home or Path(tempfile.mkdtemp(prefix="keepscore-writers-"))
    env = {**os.environ, "KEEPSCORE_HOME": str(home), "DATABASE_URL": ""}
    if not (home / "keepscore.sqlite3").exists():
        print(f"building the demo in {home} …", flush=True)
        ks(env, "demo")
    emails = members_make(env, "demo", args.writers)
    channel, stages = ids(env, "demo")
    port = free_port()
    server = subprocess.Popen(
        [*KS, "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/login/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        writers = [Writer(base, "demo", e) for e in emails]
        for w in writers:
            w.sign_in()
        until = time.perf_counter() + args.seconds
        threads = [
            threading.Thread(target=w.run, args=(until, channel, stages, i))
            for i, w in enumerate(writers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    latencies = sorted(x for w in writers for x in w.latencies)
    errors = [e for w in writers for e in w.errors]
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else None
    result = {
        "writers": args.writers,
        "seconds": args.seconds,
        "writes": len(latencies),
        "writes_per_s": round(len(latencies) / args.seconds, 1),
        "median_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": None if p95 is None else round(p95, 3),
        "max_s": round(latencies[-1], 3) if latencies else None,
        "over_5_s": sum(1 for x in latencies if x > 5),
        "errors": len(errors),
        "first_errors": errors[:5],
        "cpu_count": os.cpu_count(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
