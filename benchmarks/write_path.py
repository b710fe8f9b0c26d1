"""How long one write of the daily work takes, one after the other, as the web app makes
them. Not a test.

    .venv/bin/python benchmarks/write_path.py [--writes 300] [--warm-up 20]
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/write_path.py

On the database of ``DATABASE_URL`` (a throwaway PostgreSQL with the second line), or a new
SQLite database in a temporary KEEPSCORE_HOME, it makes a new organization, then adds a lead
and moves it to the next stage, ``--writes`` times. Each is a committed write of the
services, with the summaries' upkeep in it. It prints the median and the mean time of one
lead added and moved, without the first ``--warm-up`` ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("KEEPSCORE_HOME", tempfile.mkdtemp(prefix="keepscore-writes-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from keepscore.accounts.models import Membership
    from keepscore.accounts.services import organization_create, user_create
    from keepscore.leads.models import Channel, Stage
    from keepscore.leads.services import lead_create, lead_move

    call_command("migrate", verbosity=0)
    slug = f"writes-{os.getpid()}"
    owner = user_create(email=f"owner@{slug}.test", password="correct-horse-battery-9")
    organization = organization_create(name="Writes", slug=slug, owner=owner)
    member = Membership.objects.get(organization=organization, user=owner)
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
