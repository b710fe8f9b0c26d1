"""How long one write of the daily work takes, one after the other, as the web app makes
them. Not a test.

    .venv/bin/python benchmarks/write_path.py [--writes 300] [--warm-up 20]
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/write_path.py

On the database of ``DATABASE_URL`` (a throwaway PostgreSQL with the second line), or a new
SQLite database (in a temporary KEEPSCORE_HOME either way), it makes a new organization, then
adds a lead and moves it to the next stage, ``--writes`` times. Each is a committed write of the
services, with the summaries' upkeep in it. It prints the median and the mean time of one
lead added and moved, without the first ``--warm-up`` ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench_django import bench_organization, django_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    args = parser.parse_args()
    django_ready("keepscore-writes-")
    from django.db import connection

    from keepscore.leads.models import Channel, Stage
    from keepscore.leads.services import lead_create, lead_move

    organization, member = bench_organization("Writes", f"writes-{os.getpid()}")
    channel = Channel.objects.for_org(organization).first()
    ladder = list(Stage.objects.for_org(organization).order_by("position"))
    times = []
    for n in range(args.writes):
        start = time.perf_counter()
        lead = lead_create(organization=organization, by=member, name=f"Lead {n}", channel=channel)
        following = ladder[ladder.index(lead.stage) + 1]
        lead_move(lead=lead, to_stage=following, by=member)
        times.append(time.perf_counter() - start)
    timed = times[args.warm_up :]
    print(
        f"{connection.vendor}: a lead added and moved, {len(timed)} timed: "
        f"median {statistics.median(timed) * 1000:.1f} ms, "
        f"mean {statistics.mean(timed) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
