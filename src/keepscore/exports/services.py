"""What each export holds: one organization's records, read in chunks, as ``Table`` objects.

The leads table uses exactly the columns the import engine's ``plain`` preset reads, so an
export imported into an empty organization gives back the same leads, stage dates and
outcomes. ``export_all`` writes a zip with one CSV per table and a ``manifest.json``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from django.db.models import Max, QuerySet
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.audit import services as audit
from keepscore.exports.writers import Table, csv_chunks, csv_write, jsonl_chunks, xlsx_write
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    Touch,
)
from keepscore.leads.selectors import LeadFilters, lead_list

CHUNK = 2000
FORMAT_VERSION = 1
FORMATS = ("csv", "xlsx", "jsonl")

LEAD_HEAD = [
    "id",
    "name",
    "company",
    "email",
    "phone",
    "notes",
    "source",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "owner",
    "sourced_by",
    "value",
    "created",
    "stage",
]
LEAD_TAIL = ["revenue", "cost", "lost_reason"]


def lead_ref(lead: Lead) -> str:
    """A lead's id in exports: its external id when it came with one, else ``ks-<pk>``."""
    return getattr(lead, "external_id", "") or f"ks-{lead.pk}"


def _email(member: Membership | None) -> str:
    return member.user.email if member is not None else ""


def _batches(qs: QuerySet[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for obj in qs.iterator(chunk_size=CHUNK):
        batch.append(obj)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


# --- leads ---------------------------------------------------------------------------------


def _lead_rows(qs: QuerySet[Lead], ladder: list[Stage]) -> Iterator[list[Any]]:
    for batch in _batches(qs):
        ids = [lead.pk for lead in batch]
        entered: dict[tuple[int, int], Any] = {
            (row["lead_id"], row["to_stage_id"]): row["last"]
            for row in StageChange.objects.filter(lead_id__in=ids)
            .values("lead_id", "to_stage_id")
            .annotate(last=Max("at"))
            .order_by()
        }
        latest: dict[int, DealOutcome] = {}
        outcomes = DealOutcome.objects.filter(lead_id__in=ids).select_related("lost_reason")
        for outcome in outcomes.order_by("lead_id", "at", "id"):
            latest[outcome.lead_id] = outcome  # the last one wins
        for lead in batch:
            outcome = latest.get(lead.pk)
            yield [
                lead_ref(lead),
                lead.name,
                lead.company,
                lead.email,
                lead.phone,
                lead.notes,
                lead.channel.name,
                lead.campaign,
                lead.utm_source,
                lead.utm_medium,
                lead.utm_campaign,
                _email(lead.owner),
                _email(lead.sourced_by),
                lead.value,
                lead.first_touch_at,
                lead.stage.key,
                *(entered.get((lead.pk, s.pk)) for s in ladder),
                outcome.revenue if outcome else None,
                outcome.cost if outcome else None,
                outcome.lost_reason.name if outcome and outcome.lost_reason else "",
            ]


def export_leads(*, organization: Organization, filters: LeadFilters | None = None) -> Table:
    """Every lead (or those matching the lead list's filters), one row each."""
    ladder = list(Stage.objects.for_org(organization))
    head = LEAD_HEAD + [f"{s.key}_at" for s in ladder] + LEAD_TAIL
    qs = lead_list(organization=organization, filters=filters).order_by("first_touch_at", "pk")
    return Table("leads", head, _lead_rows(qs, ladder))


# --- the other tables ------------------------------------------------------------------------


def _table(
    name: str, head: Sequence[str], qs: QuerySet[Any], row: Callable[[Any], Sequence[Any]]
) -> Table:
    return Table(name, list(head), (row(obj) for obj in qs.iterator(chunk_size=CHUNK)))


def export_stage_changes(*, organization: Organization) -> Table:
    qs = StageChange.objects.for_org(organization).select_related(
        "lead", "from_stage", "to_stage", "by"
    )
    return _table(
        "stage_changes",
        ["id", "lead", "from_stage", "to_stage", "at", "by", "note", "qualification_override"],
        qs.order_by("at", "id"),
        lambda c: [
            c.pk,
            lead_ref(c.lead),
            c.from_stage.key if c.from_stage else "",
            c.to_stage.key,
            c.at,
            c.by.email if c.by else "",
            c.note,
            c.qualification_override,
        ],
    )


def export_activities(*, organization: Organization) -> Table:
    qs = Activity.objects.for_org(organization).select_related("lead", "by__user")
    return _table(
        "activities",
        ["id", "lead", "kind", "at", "by", "with_buyer", "outcome", "notes"],
        qs.order_by("at", "id"),
        lambda a: [
            a.pk,
            lead_ref(a.lead),
            a.kind,
            a.at,
            _email(a.by),
            a.with_buyer,
            a.outcome,
            a.notes,
        ],
    )


def export_objections(*, organization: Organization) -> Table:
    qs = Objection.objects.for_org(organization).select_related("lead", "by__user")
    return _table(
        "objections",
        ["id", "lead", "activity", "tag", "text", "at", "by"],
        qs.order_by("at", "id"),
        lambda o: [o.pk, lead_ref(o.lead), o.activity_id, o.tag, o.text, o.at, _email(o.by)],
    )


def export_outcomes(*, organization: Organization) -> Table:
    qs = DealOutcome.objects.for_org(organization).select_related("lead", "lost_reason")
    return _table(
        "outcomes",
        ["id", "lead", "result", "at", "revenue", "cost", "margin", "lost_reason", "lost_note"],
        qs.order_by("at", "id"),
        lambda o: [
            o.pk,
            lead_ref(o.lead),
            o.result,
            o.at,
            o.revenue,
            o.cost,
            o.margin,
            o.lost_reason.name if o.lost_reason else "",
            o.lost_note,
        ],
    )


def _touches(organization: Organization) -> Table:
    qs = Touch.objects.for_org(organization).select_related("lead", "channel")
    return _table(
        "touches",
        [
            *("id", "lead", "at", "channel", "campaign"),
            *("utm_source", "utm_medium", "utm_campaign", "referrer"),
        ],
        qs.order_by("at", "id"),
        lambda t: [
            t.pk,
            lead_ref(t.lead),
            t.at,
            t.channel.key,
            t.campaign,
            t.utm_source,
            t.utm_medium,
            t.utm_campaign,
            t.referrer,
        ],
    )


def _channels(organization: Organization) -> Table:
    return _table(
        "channels",
        ["id", "key", "name", "active"],
        Channel.objects.for_org(organization).order_by("id"),
        lambda c: [c.pk, c.key, c.name, c.active],
    )


def _stages(organization: Organization) -> Table:
    return _table(
        "stages",
        [
            *("key", "name", "position", "group", "kind"),
            *("requires_qualification", "playbook", "exit_criteria"),
        ],
        Stage.objects.for_org(organization),
        lambda s: [
            s.key,
            s.name,
            s.position,
            s.group,
            s.kind,
            s.requires_qualification,
            s.playbook,
            s.exit_criteria,
        ],
    )


def _lost_reasons(organization: Organization) -> Table:
    return _table(
        "lost_reasons",
        ["id", "name", "active"],
        LostReason.objects.for_org(organization).order_by("id"),
        lambda r: [r.pk, r.name, r.active],
    )


def _members(organization: Organization) -> Table:
    """Members with their roles; never a password."""
    qs = Membership.objects.filter(organization=organization).select_related("user")
    return _table(
        "members",
        ["email", "first_name", "last_name", "roles", "marketing_share"],
        qs.order_by("id"),
        lambda m: [
            m.user.email,
            m.user.first_name,
            m.user.last_name,
            " ".join(m.roles),
            m.marketing_share,
        ],
    )


def _criteria(organization: Organization) -> Table:
    return _table(
        "qualification_criteria",
        ["id", "text", "required", "position", "active"],
        QualificationCriterion.objects.for_org(organization),
        lambda c: [c.pk, c.text, c.required, c.position, c.active],
    )


def _answers(organization: Organization) -> Table:
    qs = QualificationAnswer.objects.for_org(organization).select_related("lead", "by")
    return _table(
        "qualification_answers",
        ["lead", "criterion", "met", "by", "updated_at"],
        qs.order_by("id"),
        lambda a: [
            lead_ref(a.lead),
            a.criterion_id,
            a.met,
            a.by.email if a.by else "",
            a.updated_at,
        ],
    )


def _web_forms(organization: Organization) -> list[Table]:
    from keepscore.webforms.models import WebForm, WebFormSubmission

    forms = _table(
        "web_forms",
        ["id", "name", "fields", "consent_text", "thank_you_url", "active"],
        WebForm.objects.for_org(organization).order_by("id"),
        lambda f: [f.pk, f.name, " ".join(f.fields), f.consent_text, f.thank_you_url, f.active],
    )
    submissions = _table(
        "web_form_submissions",
        ["id", "form", "lead", "submitted_at", "consent_text", "page_url"],
        WebFormSubmission.objects.for_org(organization).select_related("lead").order_by("id"),
        lambda s: [s.pk, s.form_id, lead_ref(s.lead), s.submitted_at, s.consent_text, s.page_url],
    )
    return [forms, submissions]


KINDS: dict[str, Callable[..., Table]] = {
    "leads": export_leads,
    "stage-changes": export_stage_changes,
    "activities": export_activities,
    "outcomes": export_outcomes,
}


def _all_tables(organization: Organization) -> list[Table]:
    return [
        export_leads(organization=organization),
        export_stage_changes(organization=organization),
        export_activities(organization=organization),
        export_objections(organization=organization),
        export_outcomes(organization=organization),
        _touches(organization),
        _channels(organization),
        _stages(organization),
        _lost_reasons(organization),
        _members(organization),
        _criteria(organization),
        _answers(organization),
        *_web_forms(organization),
    ]


def export_all(*, organization: Organization, out: IO[bytes]) -> dict[str, Any]:
    """Every record of the organization: a zip of one CSV per table and ``manifest.json``.

    Rows stream into the archive (``out`` is a file, e.g. a temporary one); returns the
    manifest.
    """
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in _all_tables(organization):
            with (
                archive.open(f"{table.name}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                counts[table.name] = csv_write(table, text)
        manifest = {
            "format_version": FORMAT_VERSION,
            "organization": {"name": organization.name, "slug": organization.slug},
            "exported_at": timezone.now().isoformat(),
            "counts": counts,
            "files": [f"{name}.csv" for name in counts],
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return manifest


def export_write(
    *,
    organization: Organization,
    kind: str,
    fmt: str,
    out: IO[bytes],
    filters: LeadFilters | None = None,
) -> int | None:
    """Write one export to a binary file: ``kind`` from KINDS or ``all`` (always a zip).

    Returns the number of rows (None for ``all``).
    """
    if kind == "all":
        manifest = export_all(organization=organization, out=out)
        audit.exported(organization, kind, "zip", sum(manifest["counts"].values()))
        return None
    table = (
        export_leads(organization=organization, filters=filters)
        if kind == "leads"
        else (KINDS[kind](organization=organization))
    )
    if fmt == "xlsx":
        rows = xlsx_write(table, out)
    else:
        count = 0
        chunks = csv_chunks(table) if fmt == "csv" else jsonl_chunks(table)
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
            count += 1
        rows = count - 1 if fmt == "csv" else count
    audit.exported(organization, kind, fmt, rows)
    return rows
