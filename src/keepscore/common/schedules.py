"""The worker's scheduled work: each entry is a function that sends what is due at the
moment it runs and remembers what it sent, so running it again (or late, after a stop) sends
nothing twice. The worker runs each one every hour (django-q2's ``Schedule``), written by
:func:`schedules_ensure` when ``keepscore worker`` starts."""

from __future__ import annotations

#: dotted paths of the hourly functions (each takes no argument and returns what it sent)
HOURLY = (
    # the morning digest of follow-ups due, to each member who chose it
    "keepscore.followups.digest.digests_send_due",
    # the month's scorecard to the review meeting's attendees, N days before it
    "keepscore.reports.review_mail.review_mails_send_due",
)


def schedules_ensure() -> list[str]:
    """Write one hourly Schedule per :data:`HOURLY` entry (kept by name; a schedule of ours
    no longer listed is removed); the names written."""
    from django.utils import timezone
    from django_q.models import Schedule

    prefix = "keepscore: "
    for func in HOURLY:
        Schedule.objects.update_or_create(
            name=prefix + func,
            defaults={
                "func": func,
                "schedule_type": Schedule.HOURLY,
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )
    Schedule.objects.filter(name__startswith=prefix).exclude(
        name__in=[prefix + f for f in HOURLY]
    ).delete()
    return [prefix + f for f in HOURLY]
