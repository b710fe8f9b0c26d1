"""Many activities at once: the bulk path for generated or imported activity logs.

:func:`activities_bulk_add` checks every row against the same rules as
``activities.services.activity_log`` (a known kind, a lead and a member of the
organization, a moment neither in the future nor before the lead's first touch) and writes
the rows in batches through the history recorder's bulk writer (``keepscore.history.bulk``),
in one transaction: a bad row raises ``ValidationError`` naming it, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, ActivityKind
from keepscore.common.validation import CLOCK_SKEW
from keepscore.history.bulk import bulk, datetime_adapter
from keepscore.leads.models import Lead

BATCH = 5_000
#: the activity table's columns, in the order the rows below are built (checked at run time)
COLUMNS = [
    "id",
    "organization_id",
    "created_at",
    "lead_id",
    "kind",
    "at",
    "by_id",
    "with_buyer",
    "outcome",
    "notes",
]

#: (lead id, kind, at, by membership id or None, with_buyer)
ActivityRow = tuple[int, str, datetime, int | None, bool]


def _refuse(n: int, field: str, message: str) -> ValidationError:
    return ValidationError({field: f"row {n}: {message}"})


def activities_bulk_add(organization: Organization, rows: Iterable[ActivityRow]) -> int:
    """Write ``(lead_id, kind, at, by_membership_id | None, with_buyer)`` rows; their count.

    All or nothing: the first bad row (numbered from 1) raises ``ValidationError`` and the
    transaction writes nothing. ``rows`` is consumed once, batch by batch, so it can be a
    generator over millions of rows.
    """
    kinds = frozenset(ActivityKind.values)
    members = set(Membership.objects.filter(organization=organization).values_list("pk", flat=True))
    latest = timezone.now() + CLOCK_SKEW
    org = organization.pk
    written = 0
    with bulk(organization) as block:
        if block.columns(Activity) != COLUMNS:
            raise RuntimeError("activities_bulk_add is out of date for the activity table")
        adapt = datetime_adapter()
        created = block.created
        source = iter(rows)
        while True:
            batch: list[Any] = list(islice(source, BATCH))
            if not batch:
                break
            touches = _first_touches(organization, {row[0] for row in batch})
            ids = block.ids(Activity, len(batch))
            out: list[tuple[Any, ...]] = []
            for n, (lead, kind, at, by, with_buyer) in enumerate(batch, start=written + 1):
                first_touch = touches.get(lead)
                if first_touch is None:
                    raise _refuse(n, "lead", f"lead {lead!r} is not in this organization")
                if kind not in kinds:
                    raise _refuse(n, "kind", f"unknown activity kind {kind!r}")
                if not isinstance(at, datetime) or timezone.is_naive(at):
                    raise _refuse(n, "at", f"{at!r} is not an aware datetime")
                if at > latest:
                    raise _refuse(n, "at", "this date is in the future")
                if at < first_touch:
                    raise _refuse(n, "at", "this is before the lead's first touch")
                if by is not None and by not in members:
                    raise _refuse(n, "by", f"member {by!r} is not in this organization")
                if not isinstance(with_buyer, bool):
                    raise _refuse(n, "with_buyer", f"{with_buyer!r} is not True or False")
                out.append((next(ids), org, created, lead, kind, adapt(at), by, with_buyer, "", ""))
            block.write(Activity, out)
            written += len(out)
    return written


def _first_touches(organization: Organization, leads: set[Any]) -> dict[Any, datetime]:
    """The first touch of each of these leads that belongs to the organization."""
    wanted = [pk for pk in leads if isinstance(pk, int) and not isinstance(pk, bool)]
    if not wanted:
        return {}
    return dict(
        Lead.objects.for_org(organization)
        .filter(pk__in=wanted)
        .values_list("pk", "first_touch_at")
        .order_by()
    )
