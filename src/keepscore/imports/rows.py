"""One row of a lead import read in full: its cells, dates, stage and history, or its errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keepscore.imports.cells import EARLIEST_YEAR, EMAIL, TEXT_LIMITS, money_parse, short
from keepscore.imports.date_columns import DateColumns
from keepscore.imports.dates import CANDIDATES
from keepscore.imports.engine import FACT_VALUE_MAX, Parsed
from keepscore.imports.headers import LABELS, status_word
from keepscore.imports.options import MISSING_DATE
from keepscore.leads.models import Stage, StageKind


class RowReader(DateColumns):
    """The engine reading one row as the check does: :meth:`row_parse`, for any row."""

    def _text(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> str:
        idxs = self.fields.get(name)
        if idxs is None:
            return ""
        for i in idxs:
            if i < len(values):
                v = values[i].strip()
                if v:
                    limit = TEXT_LIMITS.get(name, 200)
                    if len(v) > limit:
                        errors.append((self.table.header[i], f"longer than {limit} characters"))
                        return ""
                    return v
        return ""

    def _date(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> datetime | None:
        i = self.fields[name][0]
        v = values[i].strip() if i < len(values) else ""
        if not v:
            return None
        at = self.readers[name](v)
        if at is None:
            if name in self.unread:  # no value of the column reads in any format
                tried = ", ".join(f.label for f in CANDIDATES)
                reason = f"{short(v)} is not a date in any format tried ({tried})"
            else:
                reason = f"{short(v)} is not a date in {self.formats[name].label} [HH:MM[:SS]]"
            errors.append((self.table.header[i], reason))
            return None
        if at > self.latest:
            errors.append((self.table.header[i], f"{short(v)} is in the future"))
            return None
        if at.year < EARLIEST_YEAR:
            errors.append((self.table.header[i], f"{short(v)} is before {EARLIEST_YEAR}"))
            return None
        return at

    def _money(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> Any:
        idxs = self.fields.get(name)
        if idxs is None:
            return None
        i = idxs[0]
        v = values[i].strip() if i < len(values) else ""
        if not v:
            return None
        parsed = money_parse(v)
        if isinstance(parsed, str):
            errors.append((self.table.header[i], parsed))
            return None
        return parsed

    def row_parse(self, line: int, values: list[str]) -> Parsed | list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if len(values) > self.width and any(v.strip() for v in values[self.width :]):
            errors.append(("", f"{len(values)} values but the header has {self.width} columns"))
        if "\x00" in "".join(values):
            errors.append(("", "contains a NUL character"))
            return errors
        got: dict[str, str] = {}
        width = len(values)
        header = self.table.header
        for field_name, i, limit in self.text_spec:
            if i < width:
                v = values[i].strip()
                if v and field_name not in got:
                    if len(v) > limit:
                        errors.append((header[i], f"longer than {limit} characters"))
                        v = ""
                    got[field_name] = v
        for field_name, v in self.text_defaults:
            if not got.get(field_name):
                got[field_name] = v
        external_id = got.get("external_id", "")
        before = 0 if "name" in got else len(errors)
        name = got.get("name", "")
        company = got.get("company", "")
        if not name and ("first_name" in self.fields or "last_name" in self.fields):
            first, last = got.get("first_name", ""), got.get("last_name", "")
            name = f"{first} {last}".strip()
        if not name:
            name = company
        if not name and self.preset.name_from_id and external_id:
            name = f"{self.preset.name_from_id}{external_id[:8]}"
        if not name and len(errors) == before:
            errors.append((self._field_column("name"), "a lead needs a name or a company"))
        email = got.get("email", "").lower()
        if email and not EMAIL.fullmatch(email):
            errors.append((self._column_name("email"), f"{short(email)} is not an email address"))
        phone = got.get("phone", "")
        source = got.get("source", "") or self.source_default
        if not source:
            errors.append((self._column_name("source"), "a lead needs its source"))
        else:
            key = source.lower()
            source = key if key in self.channels else self._channel(source, errors)
        owner = got.get("owner", "")
        if owner:
            owner = self._owner(owner, errors)
        sourced_by = got.get("sourced_by", "")
        if sourced_by:
            sourced_by = self._owner(sourced_by, errors, field="sourced_by")
        fields = self.fields
        value = self._money(values, "value", errors) if "value" in fields else None
        revenue = self._money(values, "revenue", errors) if "revenue" in fields else None
        cost = self._money(values, "cost", errors) if "cost" in fields else None
        created = self._date(values, "created", errors) if "created" in fields else None
        history, first_touch, _dateless = self._history(values, created, errors)
        lost_reason = ""
        won = len(history) > 1 and any(s.kind == StageKind.WON for s, _ in history[1:])
        if won and revenue is None and "revenue" in fields:
            # the file has a revenue column: its empty cell is not a value's or a preset's
            revenue = self.revenue_given
            column = self._column_name("revenue")
            if revenue is None and not any(c == column for c, _ in errors):
                errors.append(
                    (column, "a won lead needs its revenue: the cell is empty (or give --default)")
                )
        elif won and revenue is None:
            revenue = value if value is not None else self.revenue_default
            if revenue is None:
                errors.append(
                    (
                        self._field_column("revenue"),
                        f"a won lead needs its revenue ({LABELS['revenue']} or {LABELS['value']})",
                    )
                )
        if len(history) > 1 and any(s.kind == StageKind.LOST for s, _ in history[1:]):
            lost_reason = got.get("lost_reason", "") or self.lost_reason_default
            if not lost_reason:
                errors.append(
                    (
                        self._field_column("lost_reason"),
                        "a lost lead needs its lost reason (or give --default lost_reason=…)",
                    )
                )
            else:
                lost_reason = self._reason(lost_reason)
        facts: dict[str, str] | None = None
        if self.facts_spec:
            facts = {}
            for fact, i in self.facts_spec:
                v = values[i].strip() if i < width else ""
                if not v:
                    continue
                if len(v) > FACT_VALUE_MAX:
                    errors.append((header[i], f"longer than {FACT_VALUE_MAX} characters"))
                    continue
                facts[fact] = v
        notes = got.get("notes", "")
        campaign = got.get("campaign", "")
        utm = [got.get(f, "") for f in ("utm_source", "utm_medium", "utm_campaign")]
        if errors:
            return errors
        # dateless: first_touch is self.now, the object; the check warns of it (not of a
        # duplicate's, which is not imported)
        return Parsed(
            line,
            external_id,
            name,
            company,
            email,
            phone,
            notes,
            source,
            campaign,
            utm[0],
            utm[1],
            utm[2],
            owner,
            sourced_by,
            value,
            first_touch,
            [(stage.pk, at) for stage, at in history],
            revenue,
            cost,
            lost_reason,
            facts or None,
        )

    def _stage(self, values: list[str], errors: list[tuple[str, str]]) -> Stage | None:
        status = ""
        if "status" in self.fields:
            status = status_word(self._text(values, "status", errors))
        if status in ("won", "lost"):
            stage = self.won_stage if status == "won" else self.lost_stage
            if stage is not None:
                return stage
        raw = self._text(values, "stage", errors) if "stage" in self.fields else ""
        if not raw:
            return None
        stage = self.stage_lookup.get(raw.lower())
        if stage is None:
            errors.append(
                (
                    self._column_name("stage"),
                    f"{short(raw)} is not a stage of the ladder; map it with --stage-map "
                    f"(stages: {', '.join(self.by_key)})",
                )
            )
        return stage

    def _history(
        self, values: list[str], created: datetime | None, errors: list[tuple[str, str]]
    ) -> tuple[list[tuple[Stage, datetime]], datetime, bool]:
        """(the row's stage changes, its first touch, whether that is the moment of import).

        The first touch is the created date; without one, the earliest stage date, else the
        ``--default created`` date, else (``missing_dates="now"``) the moment of the import,
        else the row is an error. The close date is the won date of a row whose stage is won
        and the lost date of one whose stage is lost. A row cannot be both won and lost.
        """
        final = self._stage(values, errors)
        if final is None:
            final = self.stage_given
        if not self.stage_dates and self.closed_i < 0 and created is not None:
            # the file has no stage dates: the same as below, sooner
            if final is not None and final.kind == StageKind.OPEN:
                return [(final, created)], created, False
            if final is not None and final is not self.start_stage:
                return [(self.start_stage, created), (final, created)], created, False
            return [(self.start_stage, created)], created, False
        events: list[tuple[datetime, int, Stage]] = []
        won_column = lost_column = ""  # the columns that gave a won / a lost date
        for name, stage in self.stage_dates:
            at = self._date(values, name, errors)
            if at is None:
                continue
            column = self._column_name(name)
            if created is not None and at < created:
                errors.append((column, f"is before the lead's first touch ({LABELS['created']})"))
                continue
            if stage.kind == StageKind.WON:
                won_column = won_column or column
            elif stage.kind == StageKind.LOST:
                lost_column = lost_column or column
            events.append((at, stage.position, stage))
        if self.closed_i >= 0:
            at = self._date(values, "closed_at", errors)
            column = self._column_name("closed_at")
            if at is None:
                pass
            elif final is None or final.kind == StageKind.OPEN:
                stage_name = final.name if final is not None else self.start_stage.name
                errors.append(
                    (
                        column,
                        f"an open deal has no close date (the row's stage is {stage_name}: "
                        "a close date is the won date of a won row, the lost date of a lost one)",
                    )
                )
            elif created is not None and at < created:
                errors.append((column, "is before the lead's first touch (created)"))
            else:
                if final.kind == StageKind.WON:
                    won_column = won_column or column
                else:
                    lost_column = lost_column or column
                events.append((at, final.position, final))
        closed_kind = final.kind if final is not None else StageKind.OPEN
        if won_column and closed_kind == StageKind.LOST:
            assert final is not None
            errors.append(
                (won_column, f"a lost deal has no won date (the row's stage is {final.name})")
            )
        elif lost_column and closed_kind == StageKind.WON:
            assert final is not None
            errors.append(
                (lost_column, f"a won deal has no lost date (the row's stage is {final.name})")
            )
        elif won_column and lost_column:
            errors.append(
                (
                    lost_column,
                    f"a deal is won or lost, not both: the row has a won date ({won_column}) "
                    f"and a lost date ({lost_column})",
                )
            )
        if (won_column and lost_column) or (final is not None and final.kind != StageKind.OPEN):
            # the row is rejected: its history leaves out what contradicts it (so its other
            # checks, revenue and lost reason, are of the deal it says it is)
            keep = final.kind if final is not None and final.kind != StageKind.OPEN else None
            events = [e for e in events if e[2].kind in (StageKind.OPEN, keep)]
        events.sort(key=lambda e: (e[0], e[1]))
        dateless = False
        if created is not None:
            first_touch = created
        elif events:
            first_touch = events[0][0]
        elif self.created_given is not None:
            first_touch = self.created_given
        else:
            first_touch = self.now
            if self.missing_dates == "now":
                dateless = True
            elif not any(c == self.created_column for c, _ in errors):
                errors.append((self.created_column, MISSING_DATE))
        start = self.start_stage
        if events and events[0][0] == first_touch and events[0][2].kind == StageKind.OPEN:
            start = events.pop(0)[2]
        elif not events and final is not None and final.kind == StageKind.OPEN:
            start = final
        history = [(start, first_touch)]
        for at, _pos, stage in events:
            if stage is not history[-1][0]:
                history.append((stage, at))
        if final is not None and final is not history[-1][0]:
            history.append((final, history[-1][1]))
        return history, first_touch, dateless
