"""An archive's records read into the organization: leads and their history, then the rest.

:class:`Importer` adds to :class:`~keepscore.imports.archive_mapping.ArchiveMapping` the
reading of the history (leads, stage changes, outcomes and their lines, corrections,
touches, activities, objections: through the recorder's bulk writer) and of what refers to
leads and the rest (qualification answers, follow-ups, spend and cash, manual values,
targets, goals, review entries, web forms and their submissions, kept diagnoses).
"""

from __future__ import annotations

from django.db.models import Model

from keepscore.activities.models import Activity, Objection
from keepscore.economics.models import CashPosition, DealLine, Spend
from keepscore.focus.models import KeptDiagnosis
from keepscore.followups.models import FollowUp
from keepscore.history.bulk import Bulk
from keepscore.imports.archive_files import Row
from keepscore.imports.archive_mapping import ArchiveMapping
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    QualificationAnswer,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.scorecard.models import Goal, ManualValue, ReviewEntry, Target
from keepscore.webforms.models import FormField, WebForm, WebFormSubmission, new_key


class Importer(ArchiveMapping):
    """One archive into one organization: its members and settings (:class:`ArchiveMapping`),
    then its records."""

    # --- the history -------------------------------------------------------------------

    #: columns of web form submissions not in archives of format 2 made before them
    CONSENT_COLUMNS = ("consent_version", "consented_at")
    LEAD_COLUMNS = {
        **{c: c for c in ("name", "company", "email", "phone", "notes", "campaign")},
        **{c: c for c in ("utm_source", "utm_medium", "utm_campaign", "referrer")},
        **{c: c for c in ("external_id", "value", "stage_entered_at", "facts", "erased_at")},
        "created": "first_touch_at",
    }

    def history_read(self, block: Bulk) -> None:
        org = self.org

        def lead(row: Row) -> Model:
            key = row.raw("key")
            if not key:
                raise row.error("key", "empty")
            if key in self.leads:
                raise row.error("key", f"the key {key!r} appears twice")
            stage = self.stage(row, "stage")
            return Lead(
                organization=org,
                **row.values_of(Lead, self.LEAD_COLUMNS),
                stage=stage,
                channel_id=self.channel(row, "channel_key"),
                owner_id=self.member(row, "owner"),
                sourced_by_id=self.member(row, "sourced_by"),
            )

        self.table(
            "leads",
            # erased_at: not in archives of format 2 made before erasure was possible
            ["key", "stage", "channel_key", "owner", "sourced_by"]
            + [c for c in self.LEAD_COLUMNS if c != "erased_at"],
            lead,
            self.history(block, Lead),
            lambda row, obj: self.leads.__setitem__(row.raw("key"), obj.pk),
            "lead",
        )

        def change(row: Row) -> Model:
            self.fresh_id(row)
            override = row.value("qualification_override", StageChange, "qualification_override")
            reason = row.value("override_reason", StageChange, "override_reason")
            if override and not reason:
                raise row.error("override_reason", "empty, but the gate was overridden")
            return StageChange(
                organization=org,
                lead_id=self.lead(row),
                from_stage=self.stage(row, "from_stage", empty=True),
                to_stage=self.stage(row, "to_stage"),
                at=row.value("at", StageChange, "at"),
                by_id=self.user(row, "by"),
                note=row.value("note", StageChange, "note"),
                qualification_override=override,
                override_reason=reason,
            )

        self.table(
            "stage_changes",
            [
                *("id", "lead_key", "from_stage", "to_stage", "at", "by", "note"),
                *("qualification_override", "override_reason"),
            ],
            change,
            self.history(block, StageChange),
            lambda row, obj: self.changes.__setitem__(row.integer("id"), (obj.pk, obj.lead_id)),
            "stage change",
        )

        def outcome(row: Row) -> Model:
            self.fresh_id(row)
            lead_id = self.lead(row)
            change_id, change_lead = self.old(
                row, "stage_change", self.changes, "stage_changes.csv"
            )
            if change_lead != lead_id:
                raise row.error("stage_change", "the stage change is another lead's")
            result = row.value("result", DealOutcome, "result")
            values = row.values_of(
                DealOutcome, {c: c for c in ("at", "revenue", "cost", "lost_note")}
            )
            reason_name = row.raw("lost_reason")
            if reason_name and reason_name not in self.reasons:
                raise row.error(
                    "lost_reason", f"no lost reason {reason_name!r} in lost_reasons.csv"
                )
            if result == "won" and (values["revenue"] is None or values["revenue"] < 0):
                raise row.error("revenue", "a won deal needs its revenue (0 or more)")
            if result == "won" and values["cost"] is not None and values["cost"] < 0:
                raise row.error("cost", "a cost is 0 or more")
            if result == "lost" and not reason_name:
                raise row.error("lost_reason", "a lost deal needs its reason")
            return DealOutcome(
                organization=org,
                lead_id=lead_id,
                stage_change_id=change_id,
                result=result,
                lost_reason_id=self.reasons.get(reason_name) if reason_name else None,
                **values,
            )

        self.table(
            "outcomes",
            [
                *("id", "lead_key", "stage_change", "result", "at", "revenue", "cost"),
                *("lost_reason", "lost_note"),
            ],
            outcome,
            self.history(block, DealOutcome),
            lambda row, obj: self.outcomes.__setitem__(row.integer("id"), obj.pk),
            "outcome",
        )
        line_columns = {c: c for c in ("quantity", "unit_price", "unit_cost")}
        self.table(
            "deal_lines",
            ["id", "outcome", "product", *line_columns],
            lambda row: DealLine(
                organization=org,
                outcome_id=self.old(row, "outcome", self.outcomes, "outcomes.csv"),
                product_id=self.old(row, "product", self.products, "products.csv"),
                **row.values_of(DealLine, line_columns),
            ),
            self.history(block, DealLine),
            what="deal line",
        )

        def correction(row: Row) -> Model:
            by = self.user(row, "by")
            if by is None:
                raise row.error("by", "empty: who undid the change")
            return StageCorrection(
                organization=org,
                lead_id=self.lead(row),
                change_id=row.integer("change_id"),
                change_from=self.stage(row, "change_from"),
                change_to=self.stage(row, "change_to"),
                change_by_id=self.user(row, "change_by"),
                by_id=by,
                **row.values_of(
                    StageCorrection,
                    {c: c for c in ("change_at", "change_note", "outcome", "at", "reason")},
                ),
            )

        self.table(
            "stage_corrections",
            [
                *("lead_key", "change_id", "change_from", "change_to", "change_at"),
                *("change_by", "change_note", "outcome", "at", "by", "reason"),
            ],
            correction,
            self.history(block, StageCorrection),
            what="stage correction",
        )
        touch_columns = {
            c: c for c in ("at", "campaign", "utm_source", "utm_medium", "utm_campaign", "referrer")
        }
        self.table(
            "touches",
            ["lead_key", "channel", *touch_columns],
            lambda row: Touch(
                organization=org,
                lead_id=self.lead(row),
                channel_id=self.channel(row, "channel"),
                **row.values_of(Touch, touch_columns),
            ),
            self.history(block, Touch),
            what="touch",
        )
        activity_columns = {c: c for c in ("kind", "at", "with_buyer", "outcome", "notes")}

        def activity(row: Row) -> Model:
            self.fresh_id(row)
            return Activity(
                organization=org,
                lead_id=self.lead(row),
                by_id=self.member(row, "by"),
                **row.values_of(Activity, activity_columns),
            )

        self.table(
            "activities",
            ["id", "lead_key", "by", *activity_columns],
            activity,
            self.history(block, Activity),
            lambda row, obj: self.activities.__setitem__(row.integer("id"), obj.pk),
            "activity",
        )
        self.table(
            "objections",
            ["lead_key", "activity", "tag", "text", "at", "by"],
            lambda row: Objection(
                organization=org,
                lead_id=self.lead(row),
                activity_id=(
                    self.old(row, "activity", self.activities, "activities.csv")
                    if row.raw("activity")
                    else None
                ),
                by_id=self.member(row, "by"),
                **row.values_of(Objection, {c: c for c in ("tag", "text", "at")}),
            ),
            self.history(block, Objection),
            what="objection",
        )

    # --- what refers to leads, and the rest --------------------------------------------

    def rest_read(self) -> None:
        org = self.org
        self.table(
            "qualification_answers",
            ["lead_key", "criterion", "met", "by"],
            lambda row: QualificationAnswer(
                organization=org,
                lead_id=self.lead(row),
                criterion_id=self.old(
                    row, "criterion", self.criteria, "qualification_criteria.csv"
                ),
                met=row.value("met", QualificationAnswer, "met"),
                by_id=self.user(row, "by"),
            ),
            self.plain(QualificationAnswer),
            what="qualification answer",
        )
        followup_columns = {c: c for c in ("kind", "due_on", "due_time", "note", "done_at")}
        self.table(
            "follow_ups",
            ["lead_key", "owner", "created_by", "done_by", "activity", *followup_columns],
            lambda row: FollowUp(
                organization=org,
                lead_id=self.lead(row),
                owner_id=self.member(row, "owner"),
                created_by_id=self.member(row, "created_by"),
                done_by_id=self.member(row, "done_by"),
                activity_id=(
                    self.old(row, "activity", self.activities, "activities.csv")
                    if row.raw("activity")
                    else None
                ),
                **row.values_of(FollowUp, followup_columns),
            ),
            self.plain(FollowUp),
            what="follow-up",
        )
        spend_columns = {c: c for c in ("month", "campaign", "amount", "note")}
        self.table(
            "spend",
            ["channel", "by", *spend_columns],
            lambda row: Spend(
                organization=org,
                channel_id=self.channel(row, "channel"),
                by_id=self.user(row, "by"),
                **row.values_of(Spend, spend_columns),
            ),
            self.plain(Spend),
            what="spend",
        )
        cash_columns = {c: c for c in ("month", "cash_on_hand", "monthly_fixed_costs", "note")}
        self.table(
            "cash_positions",
            ["by", *cash_columns],
            lambda row: CashPosition(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(CashPosition, cash_columns),
            ),
            self.plain(CashPosition),
            what="cash position",
        )

        def manual_value(row: Row) -> Model:
            key = row.raw("metric")
            if key not in self.metrics:
                raise row.error("metric", f"no manual metric {key!r} in manual_metrics.csv")
            return ManualValue(
                organization=org,
                metric_id=self.metrics[key],
                by_id=self.user(row, "by"),
                **row.values_of(ManualValue, {"month": "month", "value": "value"}),
            )

        self.table(
            "manual_values", ["metric", "month", "value", "by"], manual_value,
            self.plain(ManualValue), what="manual value",
        )  # fmt: skip
        target_columns = {c: c for c in ("metric_key", "month", "value")}
        self.table(
            "targets",
            list(target_columns),
            lambda row: Target(organization=org, **row.values_of(Target, target_columns)),
            self.plain(Target),
            what="target",
        )
        goal_columns = {c: c for c in ("metric_key", "year", "value")}
        self.table(
            "goals",
            list(goal_columns),
            lambda row: Goal(organization=org, **row.values_of(Goal, goal_columns)),
            self.plain(Goal),
            what="goal",
        )
        review_columns = {c: c for c in ("month", "kind", "text", "at")}
        self.table(
            "review_entries",
            ["by", *review_columns],
            lambda row: ReviewEntry(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(ReviewEntry, review_columns),
            ),
            self.plain(ReviewEntry),
            what="review entry",
        )

        def form(row: Row) -> Model:
            self.fresh_id(row)
            fields = row.raw("fields").split()
            unknown = [f for f in fields if f not in FormField.values]
            if unknown:
                raise row.error("fields", f"unknown fields {', '.join(unknown)}")
            key = row.raw("key") or new_key()
            if WebForm.objects.filter(key=key).exists():
                key = new_key()
                self.result.notes.append(
                    f"the web form {row.raw('name')!r} has a new public address (/f/{key}/): "
                    "its old one belongs to another organization here"
                )
            return WebForm(
                organization=org,
                fields=fields,
                key=key,
                **row.values_of(
                    WebForm, {c: c for c in ("name", "consent_text", "thank_you_url", "active")}
                ),
            )

        self.table(
            "web_forms",
            ["id", "name", "fields", "consent_text", "thank_you_url", "active"],
            form,
            self.plain(WebForm),
            lambda row, obj: self.forms.__setitem__(row.integer("id"), obj.pk),
            "web form",
        )
        submission_columns = {
            c: c
            for c in ("submitted_at", "consent_text", "page_url", "ip_hash", *self.CONSENT_COLUMNS)
        }
        self.table(
            "web_form_submissions",
            ["form", "lead_key", "submitted_at", "consent_text", "page_url"],
            lambda row: WebFormSubmission(
                organization=org,
                form_id=self.old(row, "form", self.forms, "web_forms.csv"),
                lead_id=self.lead(row),
                **row.values_of(WebFormSubmission, submission_columns),
            ),
            self.plain(WebFormSubmission),
            what="web form submission",
        )
        diagnosis_columns = {
            c: c for c in ("month", "as_of", "recommendation", "confidence", "payload")
        }
        self.table(
            "kept_diagnoses",
            ["by", *diagnosis_columns],
            lambda row: KeptDiagnosis(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(KeptDiagnosis, diagnosis_columns),
            ),
            self.plain(KeptDiagnosis),
            what="kept diagnosis",
        )
