"""What each export holds: one organization's records, read in chunks, as ``Table`` objects.

The leads table uses exactly the columns the import engine's ``plain`` preset reads, so an
export imported into an empty organization gives back the same leads, stage dates and
outcomes. :func:`archive_tables` lists every table of ``export all``, in the archive's order
(``exports.services`` writes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db.models import Max, QuerySet

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.exports.writers import Table
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.leads.selectors import LeadFilters, lead_list

CHUNK = 2000

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
#: what ``export all`` adds to each lead, for ``import all`` to give it back as it was
LEAD_FULL = [
    *("key", "external_id", "channel_key", "referrer", "stage_entered_at", "facts"),
    "erased_at",
]


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


def lead_key(pk: int) -> str:
    """A lead's key in ``export all``: ``ks-<pk>``, unique, whatever its external id."""
    return f"ks-{pk}"


def _lead_rows(qs: QuerySet[Lead], ladder: list[Stage], full: bool) -> Iterator[list[Any]]:
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
                *(
                    (
                        lead_key(lead.pk),
                        lead.external_id,
                        lead.channel.key,
                        lead.referrer,
                        lead.stage_entered_at,
                        json.dumps(lead.facts, sort_keys=True),
                        lead.erased_at,
                    )
                    if full
                    else ()
                ),
            ]


def export_leads(
    *, organization: Organization, filters: LeadFilters | None = None, full: bool = False
) -> Table:
    """Every lead (or those matching the lead list's filters), one row each; ``full``: with
    the columns of :data:`LEAD_FULL` (``export all``)."""
    ladder = list(Stage.objects.for_org(organization))
    head = LEAD_HEAD + [f"{s.key}_at" for s in ladder] + LEAD_TAIL + (LEAD_FULL if full else [])
    qs = lead_list(organization=organization, filters=filters).order_by("first_touch_at", "pk")
    return Table("leads", head, _lead_rows(qs, ladder, full), money=("value", "revenue", "cost"))


# --- the other tables ------------------------------------------------------------------------


def _table(
    name: str,
    head: Sequence[str],
    qs: QuerySet[Any],
    row: Callable[[Any], Sequence[Any]],
    money: tuple[str, ...] = (),
) -> Table:
    rows = (row(obj) for obj in qs.iterator(chunk_size=CHUNK))
    return Table(name, list(head), rows, money=money)


def export_stage_changes(*, organization: Organization, full: bool = False) -> Table:
    qs = StageChange.objects.for_org(organization).select_related(
        "lead", "from_stage", "to_stage", "by"
    )
    head = ["id", "lead", "from_stage", "to_stage", "at", "by", "note", "qualification_override"]
    return _table(
        "stage_changes",
        head + (["lead_key", "override_reason"] if full else []),
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
            *((lead_key(c.lead_id), c.override_reason) if full else ()),
        ],
    )


def export_activities(*, organization: Organization, full: bool = False) -> Table:
    qs = Activity.objects.for_org(organization).select_related("lead", "by__user")
    return _table(
        "activities",
        ["id", "lead", "kind", "at", "by", "with_buyer", "outcome", "notes"]
        + (["lead_key"] if full else []),
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
            *((lead_key(a.lead_id),) if full else ()),
        ],
    )


def export_objections(*, organization: Organization, full: bool = False) -> Table:
    qs = Objection.objects.for_org(organization).select_related("lead", "by__user")
    return _table(
        "objections",
        ["id", "lead", "activity", "tag", "text", "at", "by"] + (["lead_key"] if full else []),
        qs.order_by("at", "id"),
        lambda o: [
            *(o.pk, lead_ref(o.lead), o.activity_id, o.tag, o.text, o.at, _email(o.by)),
            *((lead_key(o.lead_id),) if full else ()),
        ],
    )


def export_outcomes(*, organization: Organization, full: bool = False) -> Table:
    qs = DealOutcome.objects.for_org(organization).select_related("lead", "lost_reason")
    return _table(
        "outcomes",
        ["id", "lead", "result", "at", "revenue", "cost", "margin", "lost_reason", "lost_note"]
        + (["lead_key", "stage_change"] if full else []),
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
            *((lead_key(o.lead_id), o.stage_change_id) if full else ()),
        ],
        money=("revenue", "cost", "margin"),
    )


def _touches(organization: Organization) -> Table:
    qs = Touch.objects.for_org(organization).select_related("lead", "channel")
    return _table(
        "touches",
        [
            *("id", "lead", "at", "channel", "campaign"),
            *("utm_source", "utm_medium", "utm_campaign", "referrer", "lead_key"),
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
            lead_key(t.lead_id),
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
        ["lead", "criterion", "met", "by", "updated_at", "lead_key"],
        qs.order_by("id"),
        lambda a: [
            lead_ref(a.lead),
            a.criterion_id,
            a.met,
            a.by.email if a.by else "",
            a.updated_at,
            lead_key(a.lead_id),
        ],
    )


def _web_forms(organization: Organization) -> list[Table]:
    from keepscore.webforms.models import WebForm, WebFormSubmission

    forms = _table(
        "web_forms",
        ["id", "name", "fields", "consent_text", "thank_you_url", "active", "key"],
        WebForm.objects.for_org(organization).order_by("id"),
        lambda f: [
            *(f.pk, f.name, " ".join(f.fields), f.consent_text, f.thank_you_url, f.active),
            f.key,
        ],
    )
    submissions = _table(
        "web_form_submissions",
        [
            *("id", "form", "lead", "submitted_at", "consent_text", "page_url"),
            *("lead_key", "ip_hash", "consent_version", "consented_at"),
        ],
        WebFormSubmission.objects.for_org(organization).select_related("lead").order_by("id"),
        lambda s: [
            *(s.pk, s.form_id, lead_ref(s.lead), s.submitted_at, s.consent_text, s.page_url),
            *(lead_key(s.lead_id), s.ip_hash, s.consent_version, s.consented_at),
        ],
    )
    return [forms, submissions]


def _corrections(organization: Organization) -> Table:
    qs = StageCorrection.objects.for_org(organization).select_related(
        "lead", "change_from", "change_to", "change_by", "by"
    )
    return _table(
        "stage_corrections",
        [
            *("id", "lead", "lead_key", "change_id", "change_from", "change_to", "change_at"),
            *("change_by", "change_note", "outcome", "at", "by", "reason"),
        ],
        qs.order_by("at", "id"),
        lambda c: [
            *(c.pk, lead_ref(c.lead), lead_key(c.lead_id), c.change_id, c.change_from.key),
            *(c.change_to.key, c.change_at, c.change_by.email if c.change_by else ""),
            c.change_note,
            "" if c.outcome is None else json.dumps(c.outcome, sort_keys=True),
            *(c.at, c.by.email, c.reason),
        ],
    )


def _money(organization: Organization) -> list[Table]:
    from keepscore.economics.models import CashPosition, DealLine, MoneySettings, Product, Spend

    margin = MoneySettings.objects.filter(organization=organization).first()
    return [
        _table(
            "products",
            ["id", "name", "price", "cost", "active"],
            Product.objects.for_org(organization).order_by("id"),
            lambda p: [p.pk, p.name, p.price, p.cost, p.active],
            money=("price", "cost"),
        ),
        _table(
            "deal_lines",
            ["id", "outcome", "product", "quantity", "unit_price", "unit_cost"],
            DealLine.objects.for_org(organization).order_by("id"),
            lambda x: [x.pk, x.outcome_id, x.product_id, x.quantity, x.unit_price, x.unit_cost],
            money=("unit_price", "unit_cost"),
        ),
        Table(
            "money_settings",
            ["default_margin_pct"],
            [[margin.default_margin_pct]] if margin is not None else [],
        ),
        _table(
            "spend",
            ["id", "month", "channel", "campaign", "amount", "note", "by"],
            Spend.objects.for_org(organization).select_related("channel", "by").order_by("id"),
            lambda x: [
                *(x.pk, x.month, x.channel.key, x.campaign, x.amount, x.note),
                x.by.email if x.by else "",
            ],
            money=("amount",),
        ),
        _table(
            "cash_positions",
            ["id", "month", "cash_on_hand", "monthly_fixed_costs", "note", "by"],
            CashPosition.objects.for_org(organization).select_related("by").order_by("id"),
            lambda x: [
                *(x.pk, x.month, x.cash_on_hand, x.monthly_fixed_costs, x.note),
                x.by.email if x.by else "",
            ],
            money=("cash_on_hand", "monthly_fixed_costs"),
        ),
    ]


def _scorecard(organization: Organization) -> list[Table]:
    from keepscore.focus.models import KeptDiagnosis
    from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target

    return [
        _table(
            "manual_metrics",
            [
                *("id", "key", "name", "group", "unit", "higher_is_better"),
                *("description", "position", "active"),
            ],
            ManualMetric.objects.for_org(organization).order_by("id"),
            lambda m: [
                *(m.pk, m.key, m.name, m.group, m.unit, m.higher_is_better),
                *(m.description, m.position, m.active),
            ],
        ),
        _table(
            "manual_values",
            ["id", "metric", "month", "value", "by"],
            ManualValue.objects.for_org(organization).select_related("metric", "by").order_by("id"),
            lambda v: [v.pk, v.metric.key, v.month, v.value, v.by.email if v.by else ""],
        ),
        _table(
            "targets",
            ["id", "metric_key", "month", "value"],
            Target.objects.for_org(organization).order_by("id"),
            lambda t: [t.pk, t.metric_key, t.month, t.value],
        ),
        _table(
            "goals",
            ["id", "metric_key", "year", "value"],
            Goal.objects.for_org(organization).order_by("id"),
            lambda g: [g.pk, g.metric_key, g.year, g.value],
        ),
        _table(
            "review_entries",
            ["id", "month", "kind", "text", "by", "at"],
            ReviewEntry.objects.for_org(organization).select_related("by").order_by("id"),
            lambda r: [r.pk, r.month, r.kind, r.text, r.by.email if r.by else "", r.at],
        ),
        _table(
            "kept_diagnoses",
            ["id", "month", "as_of", "recommendation", "confidence", "payload", "by"],
            KeptDiagnosis.objects.for_org(organization).select_related("by").order_by("id"),
            lambda d: [
                *(d.pk, d.month, d.as_of, d.recommendation, d.confidence),
                json.dumps(d.payload, sort_keys=True),
                d.by.email if d.by else "",
            ],
        ),
    ]


def _followups(organization: Organization) -> Table:
    from keepscore.followups.models import FollowUp

    qs = FollowUp.objects.for_org(organization).select_related(
        "owner__user", "created_by__user", "done_by__user"
    )
    return _table(
        "follow_ups",
        [
            *("id", "lead_key", "kind", "due_on", "due_time", "owner", "note"),
            *("created_by", "done_at", "done_by", "activity"),
        ],
        qs.order_by("id"),
        lambda f: [
            *(f.pk, lead_key(f.lead_id), f.kind, f.due_on, f.due_time, _email(f.owner)),
            *(f.note, _email(f.created_by), f.done_at, _email(f.done_by), f.activity_id),
        ],
    )


def archive_tables(organization: Organization) -> list[Table]:
    """Every table of ``export all``, in the archive's order."""
    return [
        export_leads(organization=organization, full=True),
        export_stage_changes(organization=organization, full=True),
        export_activities(organization=organization, full=True),
        export_objections(organization=organization, full=True),
        export_outcomes(organization=organization, full=True),
        _touches(organization),
        _channels(organization),
        _stages(organization),
        _lost_reasons(organization),
        _members(organization),
        _criteria(organization),
        _answers(organization),
        *_web_forms(organization),
        _corrections(organization),
        *_money(organization),
        *_scorecard(organization),
        _followups(organization),
    ]
