"""Pass 1 of the lead import: every row checked and matched, the rows to write kept (Spill)."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from django.db import connection

from keepscore.history.bulk import datetime_adapter
from keepscore.imports.cells import channel_name, phone_key
from keepscore.imports.engine import Parsed, Progress
from keepscore.imports.fast_rows import FastRowReader
from keepscore.imports.options import KEY_WORDS, MATCH_KEYS, MISSING_DATE_NOW
from keepscore.imports.readers import rows_with_retry
from keepscore.imports.report import MAX_ERRORS, RowError
from keepscore.leads.models import Lead

if TYPE_CHECKING:
    from keepscore.imports.columnar import Columns

#: rows kept in memory between the check and the write (the rest in a temporary file)
KEEP_ROWS = 20_000
#: a duplicate's match in an earlier row of the file (a lead's is its id, positive)
IN_FILE = -1
#: names listed at most per kind in ``would_create`` (campaigns can be many)
MAX_LISTED = 1_000
#: duplicates' lead names fetched per query
NAMES_CHUNK = 1_000


class Spill:
    """The checked rows, kept for the write: in memory up to KEEP_ROWS, then in a temp file."""

    def __init__(
        self,
        ready: Callable[[Any], tuple[Any, ...]] | None,
        make: Callable[[tuple[Any, ...]], Any] = Parsed._make,
    ) -> None:
        #: the row as the write needs it; None keeps nothing (a dry run)
        self.ready = ready
        self.make = make
        self.rows: list[tuple[Any, ...]] = []
        self.file: IO[bytes] | None = None

    def add(self, row: Any) -> None:
        if self.ready is None:
            return
        self.rows.append(self.ready(row))
        if len(self.rows) >= KEEP_ROWS:
            if self.file is None:
                # closed by close(), after the write or on failure
                self.file = tempfile.TemporaryFile()  # noqa: SIM115
            pickle.dump(self.rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.rows = []

    def batches(self) -> Iterator[list[Any]]:
        make = self.make
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    chunk = pickle.load(self.file)  # our own file, written just above
                except EOFError:
                    break
                yield [make(t) for t in chunk]
        if self.rows:
            yield [make(t) for t in self.rows]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        self.rows = []


class RowCheck(FastRowReader):
    """The engine with its check (pass 1)."""

    def _known_keys(self) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """Compact duplicate keys (hashes) of the organization's leads, each to its lead's id:
        external id, email, phone, only those of ``result.match`` (the others stay empty)."""
        ids: dict[int, int] = {}
        emails: dict[int, int] = {}
        phones: dict[int, int] = {}
        for pk, external_id, email, phone in self.known_key_rows():
            if email:
                emails.setdefault(hash(email), pk)
            if phone:
                phones.setdefault(hash(phone), pk)
            if external_id:
                ids.setdefault(hash(external_id), pk)
        return ids, emails, phones

    def known_key_rows(self) -> Iterator[tuple[int, str, str, str]]:
        """(lead id, external id, email, phone key) of the organization's leads, as a
        duplicate is matched by them: only the keys of ``result.match`` ("" the others)."""
        match = self.result.match
        if not match:
            return
        use_x, use_e, use_p = (k in match for k in MATCH_KEYS)
        existing = Lead.objects.for_org(self.org).values_list("pk", "email", "phone", "external_id")
        for pk, email, phone, external_id in existing.iterator(chunk_size=10_000):
            yield (
                pk,
                external_id if use_x else "",
                email.strip().lower() if use_e and email else "",
                phone_key(phone) if use_p else "",
            )

    def ready(self) -> Callable[[Parsed], tuple[Any, ...]]:
        """A checked row with the database's values for its amounts and datetimes."""
        adapt = datetime_adapter()
        dec: Callable[[Any], Any]
        if connection.vendor == "sqlite":
            dec = str  # what Django's SQLite backend registers for Decimal
        else:
            ops = connection.ops

            def dec(value: Any) -> Any:
                return ops.adapt_decimalfield_value(value, 14, 2)

        def ready(row: Parsed) -> tuple[Any, ...]:
            value, revenue, cost = row.value, row.revenue, row.cost
            return (
                *row[:14],
                None if value is None else dec(value),
                adapt(row.first_touch),
                [(pk, adapt(at)) for pk, at in row.history],
                None if revenue is None else dec(revenue),
                None if cost is None else dec(cost),
                row.lost_reason,
                row.facts,
            )

        return ready

    def check(
        self, progress: Progress | None, *, keep: bool = True, columns: Columns | None = None
    ) -> Spill:
        """Pass 1: every row parsed, checked and matched against the organization's leads and
        the earlier rows; the rows to write kept (``keep``) in line order.

        ``columns``: the whole columns were checked (:mod:`keepscore.imports.columnar`): only
        its rows (the few it could not settle) are read here, in line order, and what the
        others would create is added from it."""
        result = self.result
        kept = Spill(self.ready() if keep else None)
        #: (lead id, *row) of the rows updating an existing lead (``update``)
        updates = self.updates = Spill(tuple if keep else None, make=tuple)
        rejected = self.rejected_lines
        use_x, use_e, use_p = (k in result.match for k in MATCH_KEYS)
        update = result.update
        campaigns_known = set(
            Lead.objects.for_org(self.org)
            .exclude(campaign="")
            .values_list("campaign", flat=True)
            .distinct()
        )

        def reject(line: int) -> None:
            if len(rejected) <= line:
                rejected.extend(b"\0" * (line + 1 - len(rejected) + 4096))
            rejected[line] = 1

        # a duplicate names the file's column of the value it shares, and it in plain words

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            # afresh each time: a changed encoding reads the file again
            result.rows = result.rejected = result.errors_total = result.duplicates = 0
            result.warnings_total = 0
            result.errors.clear()
            result.duplicate_rows.clear()
            result.warnings.clear()
            kept.close()
            rejected[:] = b""
            # the organization's leads' keys → lead id; the keys of the file's rows kept so far
            # (sets, as compact as the keys: a 1,000,000-row file stays under 300 MB)
            ids, emails, phones = self._known_keys()
            ids_file: set[int] = set()
            emails_file: set[int] = set()
            phones_file: set[int] = set()
            #: in-file duplicates: line → (key, hash), named once the check is done
            earlier: dict[int, tuple[str, int | None]] = {}
            #: (key, hash) → the first line kept with it (only when few rows are read here)
            first_kept: dict[tuple[str, int], int] | None = {} if columns is not None else None
            updates.close()
            result.updated = 0
            stages: dict[int, int] = {}
            #: campaign → the first line with it
            campaigns: dict[str, int] = {}
            fact_names: dict[str, None] = {}
            # the sources, members and lost reasons the written rows use: only those of
            # them that do not exist yet are created (not a duplicate's, not a bad row's)
            used_sources: set[str] = set()
            used_members: set[str] = set()
            used_reasons: set[str] = set()
            self.used_sources, self.used_members = used_sources, used_members
            self.used_reasons = used_reasons
            watch: list[tuple[int, Callable[[str, Any], bool]]] = []
            watch_created = False
            if self.watching is not None:
                self.watched = self._date_watchers(self.watching)
                watch = [(i, self.watched[f].observe_match) for f, i in self.watching]
                watch_created = any(f == "created" for f, _i in self.watching)
            # built here: the date formats may have changed since the last pass
            parse = self.row_parser(watch, watch_created)
            now = self.now if self.missing_dates == "now" else None
            for line, values in rows:
                result.rows += 1
                if progress is not None and not result.rows % 20_000:
                    progress("checking", self._fraction())
                parsed = parse(line, values)
                if isinstance(parsed, list):
                    result.rejected += 1
                    for column, reason in parsed:
                        result.error(line, column, reason)
                    reject(line)
                    continue
                why = ""
                e = hash(parsed.email) if use_e and parsed.email else None
                p_key = phone_key(parsed.phone) if use_p else ""
                p = hash(p_key) if p_key else None
                x = hash(parsed.external_id) if use_x and parsed.external_id else None
                hit = 0
                if x is not None:
                    hit = IN_FILE if x in ids_file else ids.get(x, 0)
                    why = "external_id"
                if not hit and e is not None:
                    hit = IN_FILE if e in emails_file else emails.get(e, 0)
                    why = "email"
                if not hit and p is not None:
                    hit = IN_FILE if p in phones_file else phones.get(p, 0)
                    why = "phone"
                if hit and (hit < 0 or not update):
                    if hit < 0:  # the earlier line is found after the check
                        result.duplicate(line, why, "")
                        if len(earlier) < MAX_ERRORS:
                            earlier[line] = (why, {"external_id": x, "email": e, "phone": p}[why])
                    else:
                        result.duplicate(line, why, "", hit)  # the reason once named
                    reject(line)
                    continue
                if e is not None:
                    emails_file.add(e)
                if p is not None:
                    phones_file.add(p)
                if x is not None:
                    ids_file.add(x)
                if first_kept is not None:
                    for kind, h in (("external_id", x), ("email", e), ("phone", p)):
                        if h is not None:
                            first_kept.setdefault((kind, h), line)
                if hit:  # update: the existing lead takes the row (written after the new)
                    result.updated += 1
                    updates.add((hit, *parsed))
                    used_members.add(parsed.owner)  # its source stays the lead's
                    used_reasons.add(parsed.lost_reason)
                    continue
                if parsed.first_touch is now:  # the moment of import (missing_dates="now")
                    result.warning(line, self.created_column, MISSING_DATE_NOW)
                kept.add(parsed)
                used_sources.add(parsed.source)
                used_members.add(parsed.owner)
                used_members.add(parsed.sourced_by)
                used_reasons.add(parsed.lost_reason)
                final = parsed.history[-1][0]
                stages[final] = stages.get(final, 0) + 1
                campaign = parsed.campaign
                if campaign and campaign not in campaigns_known and len(campaigns) < MAX_LISTED:
                    campaigns.setdefault(campaign, line)
                if parsed.facts:
                    for name in parsed.facts:
                        fact_names.setdefault(name, None)

            if columns is not None:
                result.rows += columns.clean_rows
                for pk, n in columns.clean_stages.items():
                    stages[pk] = stages.get(pk, 0) + n
                used_sources.update(columns.clean_sources)
                used_members.update(columns.clean_members)
                used_reasons.update(columns.clean_reasons)
                for campaign, line in columns.clean_campaigns:
                    if campaign not in campaigns_known:
                        campaigns[campaign] = min(line, campaigns.get(campaign, line))
                campaigns = dict(sorted(campaigns.items(), key=lambda c: c[1])[:MAX_LISTED])
            self._duplicates_explain(earlier, first_kept)
            self._would_create(stages, list(campaigns), list(fact_names))

        if columns is None:
            rows_with_retry(self.table, consume)
        else:
            consume(columns.rows())
        return kept

    def _duplicates_explain(
        self,
        earlier: dict[int, tuple[str, int | None]],
        first_kept: dict[tuple[str, int], int] | None = None,
    ) -> None:
        """Name the existing lead each duplicate matched: ``same email as lead #412 “Ada”``
        (the leads' names read once, for the duplicates reported only), or the earlier line
        of the file: ``same email as line 7 of this file`` (found by reading the file again
        up to the last such duplicate, only when the file repeats itself)."""
        rows = self.result.duplicate_rows
        if first_kept is not None:  # every row with a shared key was read: no second pass
            lines = {d: first_kept[k] for d, k in earlier.items() if k in first_kept}  # type: ignore[index]
        else:
            lines = self._earlier_lines(earlier) if earlier else {}
        wanted = sorted({d.lead for d in rows if d.lead is not None})
        names: dict[int, str] = {}
        for i in range(0, len(wanted), NAMES_CHUNK):
            chunk = wanted[i : i + NAMES_CHUNK]
            names.update(
                Lead.objects.for_org(self.org).filter(pk__in=chunk).values_list("pk", "name")
            )
        for n, d in enumerate(rows):
            if d.lead is None and not d.reason:
                first = lines.get(d.line)
                where = f"line {first} of this file" if first else "an earlier row of this file"
                rows[n] = RowError(d.line, d.column, f"same {KEY_WORDS[d.column]} as {where}")
            elif d.lead is not None and not d.reason:
                name = names.get(d.lead, "")
                named = f" “{name}”" if name else ""
                reason = f"same {KEY_WORDS[d.column]} as lead #{d.lead}{named}"
                rows[n] = RowError(d.line, d.column, reason, d.lead)

    def _earlier_lines(self, earlier: dict[int, tuple[str, int | None]]) -> dict[int, int]:
        """Line of a duplicate → the first line of the file with its key (a row the check
        kept: not rejected, not a duplicate), the keys read as the check reads them."""
        wanted: dict[tuple[str, int | None], list[int]] = {}
        for line, key in earlier.items():
            wanted.setdefault(key, []).append(line)
        last = max(earlier)
        rejected = self.rejected_lines
        columns = {k: self.fields.get(k, []) for k in MATCH_KEYS}
        kinds = [k for k in MATCH_KEYS if any(kind == k for kind, _h in wanted)]
        found: dict[int, int] = {}

        def first_value(values: list[str], kind: str) -> str:
            for i in columns[kind]:
                if i < len(values):
                    v = values[i].strip()
                    if v:
                        return v
            return ""

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            found.clear()
            todo = dict(wanted)
            for line, values in rows:
                if line >= last or not todo:
                    break
                if line < len(rejected) and rejected[line]:
                    continue
                for kind in kinds:
                    v = first_value(values, kind)
                    if kind == "email":
                        v = v.lower()
                    elif kind == "phone":
                        v = phone_key(v)
                    if not v:
                        continue
                    dups = todo.pop((kind, hash(v)), None)
                    for dup in dups or ():
                        if dup > line:
                            found[dup] = line

        rows_with_retry(self.table, consume)
        return found

    def _would_create(self, stages: dict[int, int], campaigns: list[str], facts: list[str]) -> None:
        """``result.would_create`` from what the check found (see :class:`ImportResult`)."""
        members: list[dict[str, Any]] = []
        seen: set[str] = set()
        for lookup, (name, email) in self.new_owners.items():
            if email in self.members or email in seen or lookup not in self.used_members:
                continue
            seen.add(email)
            roles = self.new_roles.get(lookup, {"owner"})
            members.append(
                {
                    "name": name,
                    "email": email,
                    "roles": [
                        r
                        for r, f in (("sales", "owner"), ("marketing", "sourced_by"))
                        if f in roles
                    ],
                }
            )
        self.result.would_create = {
            "members": members,
            "channels": [
                channel_name(source)
                for lookup, source in self.new_channels.items()
                if lookup in self.used_sources
            ],
            "campaigns": campaigns,
            "lost_reasons": [
                name for lookup, name in self.new_reasons.items() if lookup in self.used_reasons
            ],
            "facts": facts,
            "stages": {s.name: stages[s.pk] for s in self.ladder if stages.get(s.pk)},
        }

    def _fraction(self) -> float:
        return min(1.0, self.table.position[0] / self.table.size) if self.table.size else 0.0
