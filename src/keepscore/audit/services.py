"""Writing the audit log: :func:`record` is the one way in."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from keepscore.audit.context import Actor, current
from keepscore.audit.models import AuditEvent

SUMMARY_MAX = 300


def record(
    *,
    action: str,
    organization: Any = None,
    object_type: str = "",
    object_id: object = "",
    summary: str = "",
    actor: Actor | None = None,
) -> AuditEvent:
    """Record one event, by the current actor unless told. ``summary`` is short and holds no
    personal data (field names, counts, kinds — never values a person typed)."""
    who = actor or current()
    return AuditEvent.objects.create(
        organization_id=getattr(organization, "pk", organization),
        via=who.via,
        user_id=who.user_id,
        membership_id=who.membership_id,
        address=who.address,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:40],
        summary=summary[:SUMMARY_MAX],
    )


def exported(
    *, organization: Any, kind: str, fmt: str, rows: int, actor: Actor | None = None
) -> None:
    """An export: what, in which format, how many rows."""
    summary = f"{kind} as {fmt}: {rows:,} rows"
    record(action="exported", organization=organization, summary=summary, actor=actor)


def imported(*, organization: Any, job: Any) -> None:
    """An import run (its job holds the report): kind, file rows and what became of them."""
    updated = int((job.report or {}).get("updated") or 0)  # rows updating existing leads
    record(
        action="imported",
        organization=organization,
        object_type="imports.ImportJob",
        object_id=job.pk,
        summary=(
            f"{job.kind} ({job.status}): {job.rows:,} rows, {job.created:,} created, "
            + (f"{updated:,} updated, " if updated else "")
            + f"{job.duplicates:,} duplicates, {job.rejected:,} rejected"
        ),
    )


def installation(*, action: str, summary: str) -> int:
    """An event of the whole installation (a backup, a restore), recorded in every
    organization's log: each owner sees what was done with their data. How many."""
    from keepscore.accounts.models import Organization

    who = current()
    events = [
        AuditEvent(
            organization_id=organization,
            via=who.via,
            user_id=who.user_id,
            membership_id=None,
            address=who.address,
            action=action,
            summary=summary[:SUMMARY_MAX],
        )
        for organization in Organization.objects.values_list("pk", flat=True)
    ]
    AuditEvent.objects.bulk_create(events, batch_size=500)
    return len(events)


def refused(*, organization: Any, what: str, need: object) -> None:
    """A member refused for lack of a role (``what``: the method and page or operation)."""
    record(action="refused", organization=organization, summary=f"{what} needs {need}")


def outsider(*, slug: str, what: str) -> None:
    """Someone signed in but not a member asked for a page of the organization ``slug``
    (recorded in its log when it exists; they are told it does not)."""
    from keepscore.accounts.models import Organization

    organization = Organization.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if organization is not None:
        record(action="refused", organization=organization, summary=f"{what}: not a member")


def delete(*, rows: QuerySet[Any], summary: str = "") -> int:
    """Delete ``rows`` (a queryset of an organization's table) and record each deleted row
    by id; how many there were (rows they cascade to are not counted)."""
    found = list(rows.values_list("pk", "organization_id"))
    if not found:
        return 0
    rows.model.objects.filter(pk__in=[pk for pk, _org in found]).delete()
    for pk, organization in found:
        record(
            action="deleted",
            organization=organization,
            object_type=rows.model._meta.label,
            object_id=pk,
            summary=summary,
        )
    return len(found)
