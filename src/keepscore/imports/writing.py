"""Pass 2 of the lead import: the kept rows written through the history's bulk writer.

New leads are written in batches with their stage changes and deal outcomes (after the
channels, members and lost reasons they need are created); with ``update``, the rows that
match an existing lead then change it through ``leads.services``.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.text import slugify

from keepscore.accounts.models import Membership
from keepscore.history.bulk import Bulk
from keepscore.imports.cells import channel_name, phone_key
from keepscore.imports.checking import RowCheck, Spill
from keepscore.imports.engine import Parsed, Progress
from keepscore.imports.report import RowError
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    LostReason,
    Stage,
    StageChange,
    StageKind,
)

BATCH = 5_000
#: SQLite's page cache while the import writes (negative: KiB), the connection's again after
SQLITE_CACHE_KB = -65536
OVERRIDE_REASON = "imported"
#: what ``update`` changes on an existing lead, when the file's cell is filled and differs;
#: never its source (channel, campaign, UTM), first touch, id or who sourced it
UPDATED_FIELDS = ("name", "company", "email", "phone", "notes", "value", "owner")


class LeadImport(RowCheck):
    """The lead import's engine, whole: its bases set it up, settle the dates, read and
    check the rows (see :mod:`~keepscore.imports.engine`); it writes them (pass 2)."""

    def write(
        self, block: Bulk, kept: Spill, by: Membership | None, progress: Progress | None
    ) -> None:
        """Write the kept rows through the recorder's bulk writer (``block``, made at
        ``self.now``), which counts them in the summaries when the block ends."""
        self._references_create()
        ops = connection.ops
        now = block.created
        no_facts = ops.adapt_json_value({}, None)
        adapt_json = ops.adapt_json_value
        by_user = by.user_id if by is not None else None
        # who sourced a lead without a sourced_by column: the member who imports it
        by_member = by.pk if by is not None else None
        org = self.org.pk
        result = self.result
        reason_ids = self.reasons
        stages = {stage.pk: stage for stage in self.ladder}
        now_iso = self.now.isoformat()
        done = [0]
        batch: list[Parsed] = []

        def flush() -> None:
            lead_ids = block.ids(Lead, len(batch))
            lead_rows: list[tuple[Any, ...]] = []
            change_rows: list[tuple[Any, ...]] = []
            outcome_rows: list[tuple[Any, ...]] = []
            deals: list[tuple[int, int, Stage, Any, Parsed]] = []
            n_changes = 0
            for row in batch:
                n_changes += len(row.history)
            change_ids = block.ids(StageChange, n_changes)
            for row in batch:
                lead_id = next(lead_ids)
                previous = None
                for stage_pk, at in row.history:
                    stage = stages[stage_pk]
                    change_id = next(change_ids)
                    past_gate = (
                        self.gate_position is not None and stage.position >= self.gate_position
                    )
                    change_rows.append(
                        (
                            change_id,
                            org,
                            now,
                            lead_id,
                            previous.pk if previous is not None else None,
                            stage.pk,
                            at,
                            by_user,
                            "",
                            past_gate,
                            OVERRIDE_REASON if past_gate else "",
                        )
                    )
                    if stage.kind != StageKind.OPEN:
                        deals.append((lead_id, change_id, stage, at, row))
                    previous = stage
                last_stage, last_at = row.history[-1]
                lead_rows.append(
                    (
                        lead_id,
                        org,
                        now,
                        row.name,
                        row.company,
                        row.email,
                        row.phone,
                        row.notes,
                        self.members[row.owner] if row.owner else None,
                        last_stage,
                        row.value,
                        row.first_touch,
                        last_at,
                        self.channels[row.source],
                        row.campaign,
                        row.utm_source,
                        row.utm_medium,
                        row.utm_campaign,
                        "",
                        row.external_id,
                        no_facts if row.facts is None else adapt_json(row.facts, None),
                        now,
                        self.members[row.sourced_by] if row.sourced_by else by_member,
                        None,  # erased_at: not erased
                    )
                )
            outcome_ids = block.ids(DealOutcome, len(deals))
            for lead_id, change_id, stage, at, row in deals:
                won = stage.kind == StageKind.WON
                outcome_rows.append(
                    (
                        next(outcome_ids),
                        org,
                        now,
                        lead_id,
                        change_id,
                        "won" if won else "lost",
                        at,
                        row.revenue if won else None,
                        row.cost if won else None,
                        None if won else reason_ids[row.lost_reason],
                        "",
                    )
                )
            block.write(Lead, lead_rows)
            if lead_rows:
                created = result.created_leads
                created.setdefault("first", lead_rows[0][0])
                created["last"] = lead_rows[-1][0]
                created["at"] = now_iso
            block.write(StageChange, change_rows)
            block.write(DealOutcome, outcome_rows)
            result.created += len(lead_rows)
            result.stage_changes += len(change_rows)
            result.outcomes += len(outcome_rows)
            batch.clear()
            if progress is not None:
                progress("writing", done[0] / max(1, result.rows))

        self._columns_check(block)
        cache_size = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # a bigger page cache while the import writes: the tables' many indexes
                cursor.execute("PRAGMA cache_size")
                cache_size = int(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KB}")
        try:
            for chunk in kept.batches():
                for parsed in chunk:
                    batch.append(parsed)
                    if len(batch) >= BATCH:
                        flush()
                        done[0] += BATCH
            if batch:
                flush()
        finally:
            kept.close()
            if cache_size is not None:
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA cache_size = {cache_size}")
        updates = getattr(self, "updates", None)
        if updates is not None:
            try:
                self._updates_apply(updates, by, progress)
            finally:
                updates.close()
        # the block counts the summaries when it ends, with the usual page cache, as SQLite's
        # sorts may hold as much as the cache in memory (the bigger one took 1M rows past 300 MB)

    def _updates_apply(
        self, updates: Spill, by: Membership | None, progress: Progress | None
    ) -> None:
        """The rows matching an existing lead (``update``), through ``leads.services`` (so
        the summaries follow and the audit log records each change): the contact fields the
        file fills or changes (:data:`UPDATED_FIELDS`; an empty cell changes nothing), and the
        stage forward only, by new stage changes (a row behind the lead is a warning)."""
        from django.core.exceptions import ValidationError
        from django.db.models import Max

        from keepscore.leads.services import Outcome, lead_move, lead_update

        result = self.result
        result.updated = 0
        stages = {stage.pk: stage for stage in self.ladder}
        members: dict[int, Membership] = {}
        reasons: dict[int, LostReason] = {}
        done = 0
        for chunk in updates.batches():
            ids = [t[0] for t in chunk]
            leads = Lead.objects.for_org(self.org).select_related("organization").in_bulk(ids)
            latest = dict(
                StageChange.objects.filter(lead_id__in=ids)
                .values("lead_id")
                .annotate(m=Max("at"))
                .values_list("lead_id", "m")
            )
            for t in chunk:
                lead = leads.get(t[0])
                row = Parsed._make(t[1 : 1 + len(Parsed._fields)])
                if lead is None:
                    continue
                if lead.erased_at is not None:
                    result.warnings.append(
                        RowError(row.line, "", f"lead #{lead.pk} was erased: not updated")
                    )
                    continue
                changed = False
                fields = self._update_fields(lead, row, members)
                if fields:
                    try:
                        lead_update(lead=lead, **fields)
                        changed = True
                    except ValidationError as error:
                        result.warnings.append(
                            RowError(
                                row.line, "", f"lead #{lead.pk} not updated: {_message(error)}"
                            )
                        )
                current = stages[lead.stage_id]
                final = stages[row.history[-1][0]]
                if current.kind != StageKind.OPEN:
                    if final is not current:
                        result.warnings.append(
                            RowError(
                                row.line,
                                "stage",
                                f"lead #{lead.pk} is already at {current.name} (closed): "
                                f"not moved to {final.name}",
                            )
                        )
                elif final.kind == StageKind.OPEN and final.position < current.position:
                    result.warnings.append(
                        RowError(
                            row.line,
                            "stage",
                            f"{final.name} is behind lead #{lead.pk}'s stage {current.name}: "
                            "not moved back",
                        )
                    )
                else:
                    moves = []
                    for pk, at in row.history:
                        stage = stages[pk]
                        if stage.kind != StageKind.OPEN or stage.position > current.position:
                            moves.append((stage, at))
                            if stage.kind != StageKind.OPEN:
                                break
                    last = latest.get(lead.pk) or lead.first_touch_at
                    if moves and moves[0][1] < max(last, lead.first_touch_at):
                        # history is append-only: the moves go after the lead's last change
                        result.warnings.append(
                            RowError(
                                row.line,
                                "stage",
                                f"the file's date for {moves[0][0].name} is before lead "
                                f"#{lead.pk}'s latest stage change: moved at the import's time",
                            )
                        )
                        moves = [(stage, self.now) for stage, _at in moves]
                    try:
                        for stage, at in moves:
                            outcome = None
                            if stage.kind == StageKind.WON:
                                outcome = Outcome(revenue=row.revenue, cost=row.cost)
                            elif stage.kind == StageKind.LOST:
                                pk = self.reasons[row.lost_reason]
                                if pk not in reasons:
                                    reasons[pk] = LostReason.objects.get(pk=pk)
                                outcome = Outcome(lost_reason=reasons[pk])
                            lead_move(
                                lead=lead,
                                to_stage=stage,
                                by=by,
                                at=at,
                                override_reason=OVERRIDE_REASON,
                                outcome=outcome,
                            )
                            result.stage_changes += 1
                            result.outcomes += stage.kind != StageKind.OPEN
                            changed = True
                    except ValidationError as error:
                        result.warnings.append(
                            RowError(
                                row.line, "stage", f"lead #{lead.pk} not moved: {_message(error)}"
                            )
                        )
                result.updated += changed
            done += len(chunk)
            if progress is not None:
                progress("updating", done / max(1, result.rows))

    def _update_fields(
        self, lead: Lead, row: Parsed, members: dict[int, Membership]
    ) -> dict[str, Any]:
        """The fields a row changes on an existing lead (see :data:`UPDATED_FIELDS`)."""
        fields: dict[str, Any] = {}
        for name in ("name", "company"):
            value = getattr(row, name)
            if value and value != getattr(lead, name):
                fields[name] = value
        if row.email and row.email != lead.email.strip().lower():
            fields["email"] = row.email
        if row.phone and phone_key(row.phone) != phone_key(lead.phone):
            fields["phone"] = row.phone
        if row.notes and row.notes not in lead.notes:
            fields["notes"] = f"{lead.notes}\n\n{row.notes}" if lead.notes else row.notes
        if row.value is not None and row.value != lead.value:
            fields["value"] = row.value
        if row.owner:
            pk = self.members[row.owner]
            if pk != lead.owner_id:
                if pk not in members:
                    members[pk] = Membership.objects.get(pk=pk)
                fields["owner"] = members[pk]
        return fields

    @staticmethod
    def _columns_check(block: Bulk) -> None:
        """The tuples above are in the tables' column order; fail loudly if a model changed."""
        expected = {
            Lead: "id organization_id created_at name company email phone notes owner_id "
            "stage_id value first_touch_at stage_entered_at channel_id campaign utm_source "
            "utm_medium utm_campaign referrer external_id facts updated_at sourced_by_id "
            "erased_at",
            StageChange: "id organization_id created_at lead_id from_stage_id to_stage_id at by_id "
            "note qualification_override override_reason",
            DealOutcome: "id organization_id created_at lead_id stage_change_id result at revenue "
            "cost lost_reason_id lost_note",
        }
        for model, columns in expected.items():
            if block.columns(model) != columns.split():
                raise RuntimeError(f"import writer is out of date for {model.__name__}")

    def _references_create(self) -> None:
        """The channels, members and lost reasons the rows need that do not exist yet."""
        from keepscore.accounts.services import member_find_or_add
        from keepscore.leads.settings_services import channel_create

        result = self.result
        keys = set(self.channel_keys)
        for lookup, source in self.new_channels.items():
            if lookup not in self.used_sources:
                continue  # named only by rows not written
            # the key is the source as written (slugified), so it maps back on re-import
            base = slugify(source)[:50] or "channel"
            key, n = base, 2
            while key in keys:
                key, n = f"{base}-{n}", n + 1
            keys.add(key)
            name = channel_name(source)
            channel = channel_create(organization=self.org, name=name[:100], key=key)
            self.channels[lookup] = channel.pk
            result.new_channels.append(name)
        for lookup, (name, email) in self.new_owners.items():
            if lookup not in self.used_members:
                continue
            membership_id = self.members.get(email)
            if membership_id is None:
                first, _, last = name.partition(" ")
                roles = self.new_roles.get(lookup, {"owner"})
                membership, _new = member_find_or_add(
                    organization=self.org,
                    email=email,
                    first_name=first,
                    last_name=last,
                    is_sales="owner" in roles,
                    is_marketing="sourced_by" in roles,
                )
                membership_id = membership.pk
                self.members[email] = membership_id
                result.new_members.append(f"{name} <{email}>" if name else email)
            self.members[lookup] = membership_id
        for lookup, name in self.new_reasons.items():
            if lookup not in self.used_reasons:
                continue
            reason = LostReason.objects.create(organization=self.org, name=name)
            self.reasons[lookup] = reason.pk
            result.new_lost_reasons.append(name)


def _message(error: Any) -> str:
    """A ValidationError's messages, in one line."""
    return " ".join(str(m) for m in getattr(error, "messages", [error]))
