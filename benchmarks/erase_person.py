"""A person with a long history, exported and erased: how long each takes.

    .venv/bin/python benchmarks/erase_person.py [ACTIVITIES]          (default: 5000)
    scripts/with-postgres.sh .venv/bin/python benchmarks/erase_person.py [ACTIVITIES]

One lead (plus a second one under the same email), written through the real services: a
stage change every few activities (back and forth between two stages, each with a note),
ACTIVITIES activities with notes and an outcome, an objection with text every 5th activity,
a follow-up with a note every 25th, a later touch every 50th; then the person is exported
(JSON) and erased, each timed, and the erasure is checked to have left no text and every
figure's history as it was. A fresh SQLite database in a temporary KEEPSCORE_HOME, or the
DATABASE_URL given (PostgreSQL). Not a test.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

from bench_django import bench_organization, django_ready


def main(activities: int) -> None:
    django_ready("keepscore-bench-")
    from django.db import connection
    from django.utils import timezone

    from keepscore.activities.models import Activity
    from keepscore.activities.services import activity_log, objection_add
    from keepscore.followups.services import followup_add
    from keepscore.leads.models import Channel, Stage, StageChange
    from keepscore.leads.services import lead_create, lead_move, touch_add
    from keepscore.privacy.services import person_erase, person_export

    org, owner = bench_organization("Erase bench", f"erase-bench-{int(time.time())}")
    channel = Channel.objects.for_org(org).get(key="referral")
    prospect, lead_stage = (Stage.objects.for_org(org).get(key=k) for k in ("prospect", "lead"))
    now = timezone.now()
    start = now - timedelta(days=700)
    step = timedelta(days=690) / max(activities, 1)
    t0 = time.perf_counter()
    lead = lead_create(
        organization=org,
        name="Grace Hopper",
        channel=channel,
        by=owner,
        first_touch_at=start,
        email="grace@example.com",
        phone="+1 555 0100",
        company="Navy",
        notes="Met at the conference",
    )
    lead_create(
        organization=org, name="G. Hopper", channel=channel, by=owner, email="GRACE@example.com"
    )
    moves = 0
    for i in range(activities):
        at = start + step * (i + 1)
        activity_log(
            lead=lead,
            kind="connect" if i % 3 else "email",
            by=owner,
            at=at,
            with_buyer=bool(i % 2),
            outcome=f"Spoke with Grace #{i}",
            notes=f"Grace said thing number {i}",
        )
        if i % 5 == 0:
            objection_add(lead=lead, tag="price", by=owner, at=at, text=f"Grace objected {i}")
        if i % 10 == 0:
            to = lead_stage if lead.stage_id == prospect.pk else prospect
            lead_move(lead=lead, to_stage=to, by=owner, at=at, note=f"Grace moved {i}")
            moves += 1
        if i % 25 == 0:
            followup_add(
                lead=lead,
                by=owner,
                kind="call",
                due_on=timezone.localdate() + timedelta(days=1),
                note=f"Call Grace {i}",
            )
        if i % 50 == 0:
            touch_add(lead=lead, channel=channel, at=at, referrer=f"https://grace.example/{i}")
    built = time.perf_counter() - t0
    history = StageChange.objects.filter(lead=lead).count()
    acts = Activity.objects.filter(lead=lead).count()
    print(
        f"{connection.vendor}: a lead with {acts:,} activities, {history:,} stage changes, "
        f"{activities // 5:,} objections, {activities // 25:,} follow-ups, "
        f"{activities // 50:,} touches (built through the services in {built:.1f} s)"
    )

    t0 = time.perf_counter()
    data = person_export(organization=org, email="grace@example.com")
    exported = time.perf_counter() - t0
    size = len(json.dumps(data)) / 1e6
    print(f"export: {exported * 1000:,.0f} ms ({len(data['leads'])} leads, {size:.1f} MB JSON)")

    before = list(
        StageChange.objects.filter(lead=lead).order_by("id").values_list("to_stage", "at", "by")
    )
    t0 = time.perf_counter()
    erasure = person_erase(organization=org, email="grace@example.com", by=owner)
    erased = time.perf_counter() - t0
    print(f"erase:  {erased * 1000:,.0f} ms ({erasure.words()})")
    after = list(
        StageChange.objects.filter(lead=lead).order_by("id").values_list("to_stage", "at", "by")
    )
    assert after == before, "the history changed"
    left = Activity.objects.filter(lead=lead).exclude(notes="").count()
    assert left == 0 and not person_export(organization=org, email="grace@example.com")["leads"]
    print("checked: no activity note left, the stage history unchanged, the email finds nobody")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
