"""Pass 0 of the lead import: each date column's format, settled from a sample of the rows.

The formats are settled from the first :data:`DATE_SAMPLE` rows (or from ``--date-format``);
in a longer file the check watches the rest of each date column and :meth:`dates_confirm`
settles the formats from the whole column, the check running again in the rare case that
they differ. A sample that does not settle (ambiguous so far) reads the whole column first.
"""

from __future__ import annotations

from collections.abc import Iterator

from keepscore.imports.dates import (
    ColumnDates,
    DateFormat,
    date_format_parse,
    date_matcher,
    date_reader,
)
from keepscore.imports.engine import ImportSetup
from keepscore.imports.readers import rows_with_retry

#: rows read to settle the date formats before the check (which watches the rest)
DATE_SAMPLE = 2_000
LABEL_ISO = date_format_parse("YYYY-MM-DD")


class DateColumns(ImportSetup):
    """The engine with its date formats settled (pass 0)."""

    def dates_detect(self) -> None:
        """Settle the date formats from the first :data:`DATE_SAMPLE` rows.

        When the file is longer, those formats are provisional: the check watches every
        value of the date columns (:meth:`dates_confirm`), so the formats are still settled
        from the whole column, without reading the file once more just for them.
        """
        columns = [(f, self.fields[f][0]) for f in self.date_fields]
        watchers = self._date_watchers(columns)
        complete = True
        if self.given_format is None and columns:

            def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
                nonlocal complete, watchers
                watchers = self._date_watchers(columns)  # afresh: a changed encoding
                complete = True
                for n, (_line, values) in enumerate(rows):
                    if n >= DATE_SAMPLE:
                        complete = False
                        break
                    self._dates_observe(columns, watchers, values)

            rows_with_retry(self.table, consume)
        formats, labels, problems = self._dates_settle(watchers)
        if complete:
            self.result.problems.extend(problems)
        elif problems:
            # not settled by the sample (e.g. ambiguous so far): read the whole column first
            columns_all = columns

            def consume_all(rows: Iterator[tuple[int, list[str]]]) -> None:
                nonlocal watchers
                watchers = self._date_watchers(columns_all)
                for _line, values in rows:
                    self._dates_observe(columns_all, watchers, values)

            rows_with_retry(self.table, consume_all)
            formats, labels, problems = self._dates_settle(watchers)
            self.result.problems.extend(problems)
        else:
            self.watching = columns
        self._dates_use(formats, labels)

    def dates_confirm(self) -> bool:
        """After a check that watched the dates: whether its formats were the right ones.

        False: the whole columns settle on other formats than the sample did; the formats
        are now those and the check must run again. A date problem (ambiguous, mixed) is
        reported as by :meth:`dates_detect`, and the check's rows are forgotten.
        """
        watchers, self.watched, self.watching = self.watched, {}, None
        if not watchers:
            return True
        formats, labels, problems = self._dates_settle(watchers)
        same = formats == self.formats
        self._dates_use(formats, labels)
        if problems:
            result = self.result
            result.problems.extend(problems)
            result.rows = result.rejected = result.errors_total = result.duplicates = 0
            result.warnings_total = 0
            result.updated = 0
            result.errors.clear()
            result.duplicate_rows.clear()
            result.warnings.clear()
            self.rejected_lines[:] = b""
            return True
        return same

    def _date_watchers(self, columns: list[tuple[str, int]]) -> dict[str, ColumnDates]:
        header = self.table.header
        return {f: ColumnDates(column=header[i], given=self.given_format) for f, i in columns}

    @staticmethod
    def _dates_observe(
        columns: list[tuple[str, int]], watchers: dict[str, ColumnDates], values: list[str]
    ) -> None:
        for f, i in columns:
            if i < len(values):
                v = values[i]
                if v and not v.isspace() and len(v) < 100:
                    watchers[f].observe(v)

    def _dates_settle(
        self, watchers: dict[str, ColumnDates]
    ) -> tuple[dict[str, DateFormat], dict[str, str], list[str]]:
        """(format of each date field, label of each column, problems)."""
        formats: dict[str, DateFormat] = {}
        labels: dict[str, str] = {}
        problems: list[str] = []
        self.unread = set()
        for f, watcher in watchers.items():
            settled = watcher.settle()
            if isinstance(settled, str):
                problems.append(settled)
            elif settled is not None:
                formats[f] = settled
                labels[watcher.column] = settled.label
            else:
                formats[f] = LABEL_ISO
                self.unread.add(f)
        return formats, labels, problems

    def _dates_use(self, formats: dict[str, DateFormat], labels: dict[str, str]) -> None:
        self.formats = formats
        self.result.date_formats.clear()
        self.result.date_formats.update(labels)
        self.readers = {f: date_reader(fmt, self.zone) for f, fmt in formats.items()}
        self.matchers = {f: date_matcher(fmt, self.zone) for f, fmt in formats.items()}
