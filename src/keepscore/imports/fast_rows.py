"""The usual row of a lead import read in one pass, from indexes computed once (fast path)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from keepscore.imports.cells import (
    CENT,
    EARLIEST_YEAR,
    EMAIL,
    PLAIN_MONEY,
    TEXT_LIMITS,
    money_parse,
)
from keepscore.imports.dates import value_match
from keepscore.imports.engine import Parsed
from keepscore.imports.headers import status_word
from keepscore.imports.rows import RowReader
from keepscore.leads.models import Stage, StageKind

#: a row's history, as the fast path reads it: (final stage id, a second change?, won?, lost?)
StagePlan = tuple[int, bool, bool, bool]


class FastRowReader(RowReader):
    """The engine with the check's row reader: :meth:`row_parser`, fast for the usual row."""

    def fast_path_possible(self) -> bool:
        """Whether the usual row of this mapping is read by :meth:`row_parser`'s one pass (and
        so can be checked over whole columns): one column per text field, status and stage,
        a date of first contact, no stage or close dates, no facts, no text or stage
        defaults, and at least one text field."""
        fields = self.fields
        return (
            all(len(fields.get(name, ())) <= 1 for name in (*TEXT_LIMITS, "status", "stage"))
            and not self.stage_dates
            and "created" in fields  # every row's first touch is the slow path's
            and self.closed_i < 0
            and not self.facts_spec
            and not self.text_defaults
            and self.stage_given is None
            and any(name in fields for name in TEXT_LIMITS)
        )

    def stage_planner(self) -> Callable[[str, str], StagePlan | None]:
        """The fast path's reading of a row's status and stage cells (as they are in the
        file): the plan of its history (see :data:`StagePlan`), or None when the row needs
        :meth:`row_parse` (a cell too long, a stage not on the ladder)."""
        start = self.start_stage
        start_pk = start.pk

        def plan(final: Stage) -> StagePlan:
            """The plan of the history ending at ``final`` (as :meth:`_history`)."""
            if final.kind == StageKind.OPEN:
                return final.pk, False, False, False
            if final is start:
                return start_pk, False, False, False
            return final.pk, True, final.kind == StageKind.WON, final.kind == StageKind.LOST

        plans = {key: plan(stage) for key, stage in self.stage_lookup.items()}
        won_plan = plan(self.won_stage) if self.won_stage is not None else None
        lost_plan = plan(self.lost_stage) if self.lost_stage is not None else None
        start_plan = plan(start)

        def plan_of(status: str, stage: str) -> StagePlan | None:
            chosen: StagePlan | None = None
            if status:
                status = status.strip()
                if len(status) > 200:
                    return None
                word = status_word(status)
                if word == "won":
                    chosen = won_plan
                elif word == "lost":
                    chosen = lost_plan
            if chosen is None and stage:
                raw = stage.strip()
                if len(raw) > 200:
                    return None
                if raw:
                    return plans.get(raw.lower())
            return chosen or start_plan

        return plan_of

    def row_parser(
        self, watch: list[tuple[int, Callable[[str, Any], bool]]], watch_created: bool
    ) -> Callable[[int, list[str]], Parsed | list[tuple[str, str]]]:
        """:meth:`row_parse` for this mapping, built once, with the check's date watching.

        ``watch``: (column, observe_match) of the date columns the check watches (as
        :meth:`_dates_observe`); ``watch_created``: whether the created column is among them
        (its match is then shared with the parse). The usual row (as wide as the header, one
        column per field, no stage dates, valid) is read in one pass from precomputed
        indexes; any other row, and any row with an error, goes to :meth:`row_parse`, which
        gives the same result and reports the errors in their order.
        """
        slow = self.row_parse
        fields = self.fields
        width = self.width

        def watch_only(line: int, values: list[str]) -> Parsed | list[tuple[str, str]]:
            n = len(values)
            for i, observe in watch:  # as _dates_observe
                if i < n:
                    v = values[i]
                    if v and not v.isspace() and len(v) < 100:
                        observe(v, value_match(v))
            return slow(line, values)

        if not self.fast_path_possible():
            return watch_only

        # the text fields of the file (their columns, their limits), then one slot per text
        # field in TEXT_LIMITS order, a field not mapped reading the "" appended after them
        names = list(TEXT_LIMITS)
        present = [n for n in names if n in fields]
        columns = [fields[n][0] for n in present]
        limits = [TEXT_LIMITS[n] for n in present]
        shortest = min(limits, default=0)
        text_get: Callable[[list[str]], Any] = (
            itemgetter(*columns) if len(columns) > 1 else lambda values: [values[columns[0]]]
        )
        slots = itemgetter(*[present.index(n) if n in fields else len(present) for n in names])
        first_last = "first_name" in fields or "last_name" in fields
        name_from_id = self.preset.name_from_id
        source_default = self.source_default
        revenue_default = self.revenue_default
        revenue_given = self.revenue_given
        lost_reason_default = self.lost_reason_default
        channels = self.channels
        channel = self._channel
        owner_of = self._owner
        reason_of = self._reason
        email_ok = EMAIL.fullmatch
        plain_money = PLAIN_MONEY.fullmatch
        cent = CENT
        money_i = [fields[f][0] if f in fields else -1 for f in ("value", "revenue", "cost")]
        value_i, revenue_i, cost_i = money_i
        created_i = fields["created"][0]
        read_created = self.readers.get("created")
        match_created = self.matchers.get("created")
        watch_others = [(i, o) for i, o in watch if not (watch_created and i == created_i)]
        observe_created = next(o for i, o in watch if i == created_i) if watch_created else None
        latest = self.latest
        zone = self.zone
        # a date (in the zone) before this is not in the future, whatever its offset (< 24 h):
        # compared at once, as both have the same tzinfo, where `at > latest` asks for offsets
        cutoff = latest.astimezone(UTC).replace(tzinfo=None) - timedelta(days=2)
        past = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=zone)
        earliest_year = EARLIEST_YEAR
        status_i = fields["status"][0] if "status" in fields else -1
        stage_i = fields["stage"][0] if "stage" in fields else -1
        plan_of = self.stage_planner()
        start_pk = self.start_stage.pk
        new = tuple.__new__

        def money(v: str) -> Any:
            if plain_money(v):
                return Decimal(v).quantize(cent)
            parsed = money_parse(v)
            return None if isinstance(parsed, str) else parsed

        def parse(line: int, values: list[str]) -> Parsed | list[tuple[str, str]]:
            n = len(values)
            for i, observe in watch_others:  # as _dates_observe
                if i < n:
                    v = values[i]
                    if v and not v.isspace() and len(v) < 100:
                        observe(v, value_match(v))
            created_raw = ""
            created_match = None
            if observe_created is not None and created_i < n:
                v = values[created_i]
                if v and not v.isspace() and len(v) < 100:
                    created_raw = v
                    created_match = value_match(v)
                    observe_created(v, created_match)
            if n != width or "\x00" in "".join(values):
                return slow(line, values)
            got = [v.strip() for v in text_get(values)]
            if max(map(len, got), default=0) > shortest:
                for v, limit in zip(got, limits, strict=True):
                    if len(v) > limit:
                        return slow(line, values)
            got.append("")
            (
                external_id,
                name,
                company,
                email,
                phone,
                notes,
                campaign,
                utm_source,
                utm_medium,
                utm_campaign,
                owner,
                sourced_by,
                source,
                reason,
                first,
                last,
            ) = slots(got)
            if not name and first_last:
                name = f"{first} {last}".strip()
            if not name:
                name = company
            if not name and name_from_id and external_id:
                name = f"{name_from_id}{external_id[:8]}"
            if not name:
                return slow(line, values)
            email = email.lower()
            if email and not email_ok(email):
                return slow(line, values)
            source = source or source_default
            if not source:
                return slow(line, values)
            key = source.lower()
            if key in channels:
                source = key
            else:
                errors: list[tuple[str, str]] = []
                source = channel(source, errors)
                if errors:
                    return slow(line, values)
            if owner:
                errors = []
                owner = owner_of(owner, errors)
                if errors:
                    return slow(line, values)
            if sourced_by:
                errors = []
                sourced_by = owner_of(sourced_by, errors, field="sourced_by")
                if errors:
                    return slow(line, values)
            value = revenue = cost = None
            if value_i >= 0:
                v = values[value_i].strip()
                if v:
                    value = money(v)
                    if value is None:
                        return slow(line, values)
            if revenue_i >= 0:
                v = values[revenue_i].strip()
                if v:
                    revenue = money(v)
                    if revenue is None:
                        return slow(line, values)
            if cost_i >= 0:
                v = values[cost_i].strip()
                if v:
                    cost = money(v)
                    if cost is None:
                        return slow(line, values)
            v = values[created_i].strip()
            if not v:
                return slow(line, values)  # no date of first contact
            if created_match is not None and len(v) == len(created_raw):
                at = match_created(created_match)  # type: ignore[misc]
            else:
                at = read_created(v)  # type: ignore[misc]
            if (
                at is None
                or (not (at.tzinfo is zone and at < past) and at > latest)
                or at.year < earliest_year
            ):
                return slow(line, values)
            first_touch = at
            chosen = plan_of(
                values[status_i] if status_i >= 0 else "", values[stage_i] if stage_i >= 0 else ""
            )
            if chosen is None:
                return slow(line, values)
            pk, two, won, lost = chosen
            history: list[tuple[int, Any]]
            lost_reason = ""
            if two:
                history = [(start_pk, first_touch), (pk, first_touch)]
                if won and revenue is None:
                    if revenue_i >= 0:
                        revenue = revenue_given
                    else:
                        revenue = value if value is not None else revenue_default
                    if revenue is None:
                        return slow(line, values)
                elif lost:
                    lost_reason = reason or lost_reason_default
                    if not lost_reason:
                        return slow(line, values)
                    lost_reason = reason_of(lost_reason)
            else:
                history = [(pk, first_touch)]
            return new(
                Parsed,
                (
                    line,
                    external_id,
                    name,
                    company,
                    email,
                    phone,
                    notes,
                    source,
                    campaign,
                    utm_source,
                    utm_medium,
                    utm_campaign,
                    owner,
                    sourced_by,
                    value,
                    first_touch,
                    history,
                    revenue,
                    cost,
                    lost_reason,
                    None,  # facts: none on the fast path
                ),
            )

        return parse
