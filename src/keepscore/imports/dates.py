"""Date formats detected from a whole column, never guessed, never shifted by a timezone.

Each candidate is a day/month/year order with a separator, with an optional time
``HH:MM[:SS]``; the year has four digits or two (``20-10-16``). A two-digit year 00 to 69
is 2000 to 2069, and 70 to 99 is 1970 to 1999 (:data:`PIVOT`); a two-digit reading after
today does not count (a file's dates are of the past). A column's format is the one
candidate that reads every value; when several read every value but disagree on one
(``03/04/2018``: 3 April or 4 March?), the column is ambiguous and the import asks for
``--date-format``. A 12-hour time (``2:22 PM``) is read too. Dates without a zone are in
the organization's zone (``settings.TIME_ZONE``); an ISO date with an offset keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

_VALUE = re.compile(
    r"\s*(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})"
    r"(?:(?:[ T]|, ?)([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:[.,](\d{1,6}))?)?"
    r"(?:\s?([AaPp])\.?[Mm]\.?)?)?"  # 2:22 PM, 2:22 p.m. (Salesforce, US spreadsheets)
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*"
)
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: distinct date parts remembered per column (many rows share a day; bounded for memory)
_CACHE_MAX = 200_000


#: two-digit years below this are 20xx, the others 19xx
PIVOT = 70


@dataclass(frozen=True)
class DateFormat:
    label: str
    order: str  # "ymd", "dmy" or "mdy"
    sep: str
    #: the year in two digits (YY)
    short: bool = False


CANDIDATES: tuple[DateFormat, ...] = (
    DateFormat("YYYY-MM-DD", "ymd", "-"),
    DateFormat("YYYY/MM/DD", "ymd", "/"),
    DateFormat("YYYY.MM.DD", "ymd", "."),
    DateFormat("DD-MM-YYYY", "dmy", "-"),
    DateFormat("MM-DD-YYYY", "mdy", "-"),
    DateFormat("DD/MM/YYYY", "dmy", "/"),
    DateFormat("MM/DD/YYYY", "mdy", "/"),
    DateFormat("DD.MM.YYYY", "dmy", "."),
    DateFormat("DD-MM-YY", "dmy", "-", True),
    DateFormat("MM-DD-YY", "mdy", "-", True),
    DateFormat("YY-MM-DD", "ymd", "-", True),
    DateFormat("DD/MM/YY", "dmy", "/", True),
    DateFormat("MM/DD/YY", "mdy", "/", True),
    DateFormat("YY/MM/DD", "ymd", "/", True),
    DateFormat("DD.MM.YY", "dmy", ".", True),
    DateFormat("YY.MM.DD", "ymd", ".", True),
)
LABELS = {f.label: f for f in CANDIDATES}


def date_format_parse(text: str) -> DateFormat:
    """``--date-format``: one of the labels (``DD/MM/YYYY``), any case; a time may follow."""
    key = text.strip().replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY")
    key = key.replace("%y", "YY").upper().split(" ")[0].split("T")[0]
    if key in LABELS:
        return LABELS[key]
    raise ValueError(
        f"unknown date format {text!r}; use one of: {', '.join(LABELS)} "
        "(a time HH:MM[:SS] after the date is always accepted)"
    )


def _year(text: str) -> int:
    """A two-digit year in full, by :data:`PIVOT`."""
    y = int(text)
    return y + (2000 if y < PIVOT else 1900)


def _ymd(fmt: DateFormat, a: str, b: str, c: str) -> tuple[int, int, int] | None:
    year = a if fmt.order == "ymd" else c
    if len(year) != (2 if fmt.short else 4):
        return None
    if fmt.order == "ymd":
        y, m, d = int(a), int(b), int(c)
    else:
        if len(a) > 2:
            return None
        y = int(c)
        d, m = (int(a), int(b)) if fmt.order == "dmy" else (int(b), int(a))
    if fmt.short:
        y = _year(year)
    if not (1 <= m <= 12 and 1 <= d <= _DAYS[m] and 1 <= y <= 9999):
        return None
    if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        return None
    return y, m, d


def _today() -> tuple[int, int, int]:
    # a day of slack: a file written today, in a zone ahead of ours
    day = date.today() + timedelta(days=1)
    return day.year, day.month, day.day


@dataclass
class ColumnDates:
    """Watches one column's values (pass 1) and settles its format."""

    column: str
    given: DateFormat | None = None
    viable: set[str] = field(default_factory=lambda: {f.label for f in CANDIDATES})
    disagree: set[frozenset[str]] = field(default_factory=set)
    seen: int = 0
    example: dict[str, str] = field(default_factory=dict)
    #: date part → the labels that read it (already folded into viable and disagree)
    _known: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict, repr=False)
    #: the labels viable was last narrowed to (again: nothing changes, viable only shrinks)
    _narrowed: frozenset[str] | None = field(default=None, repr=False, compare=False)
    #: a two-digit year read after this (y, m, d) is not a reading of the value
    _today: tuple[int, int, int] = field(default_factory=_today, repr=False, compare=False)

    def observe(self, value: str) -> bool:
        """Whether ``value`` reads as a date in some format (False: a bad date)."""
        return self.observe_match(value, _VALUE.fullmatch(value))

    def observe_match(self, value: str, m: re.Match[str] | None) -> bool:
        """:meth:`observe` with ``value_match(value)`` already done (shared with the reader)."""
        if m is None:
            return False
        a, sep, b, c = key = m.group(1, 2, 3, 4)
        if self.given is not None:
            return self.given.sep == sep and _ymd(self.given, a, b, c) is not None
        known = self._known.get(key)
        if known is not None:
            # the same day seen before: its disagreements are already recorded
            if not known:
                return False
            self.seen += 1
            if known is not self._narrowed:
                self.viable &= known
                self._narrowed = known
            return True
        results = {}
        today = self._today
        for fmt in CANDIDATES:
            if fmt.sep == sep:
                ymd = _ymd(fmt, a, b, c)
                if ymd is not None and not (fmt.short and ymd > today):
                    results[fmt.label] = ymd
        if len(self._known) < _CACHE_MAX:
            self._known[key] = frozenset(results)
        if not results:
            return False
        self.seen += 1
        self.viable &= results.keys()
        if len(results) > 1:
            labels = sorted(results)
            for i, x in enumerate(labels):
                for y in labels[i + 1 :]:
                    if results[x] != results[y]:
                        pair = frozenset((x, y))
                        if pair not in self.disagree:
                            self.disagree.add(pair)
                            self.example[x + y] = value
        return True

    def settle(self) -> DateFormat | str | None:
        """The column's format, or the problem (a message), or None when it has no dates."""
        if self.given is not None:
            return self.given
        if not self.seen:
            return None
        if not self.viable:
            return (
                f"column {self.column!r}: the dates are in more than one format; "
                "make them one format or choose one with --date-format"
            )
        labels = sorted(self.viable)
        for i, x in enumerate(labels):
            for y in labels[i + 1 :]:
                if frozenset((x, y)) in self.disagree:
                    example = self.example.get(x + y) or self.example.get(y + x, "")
                    return (
                        f"column {self.column!r}: the dates are ambiguous ({example!r} reads "
                        f"as {x} and as {y}); choose one with --date-format"
                    )
        # the candidates left agree on every value: prefer the first in the list
        return next(f for f in CANDIDATES if f.label in self.viable)


def _hour(hour: str | None, meridiem: str | None) -> int:
    """The hour of the day; -1 when a 12-hour time's hour is not 1 to 12."""
    if not hour:
        return 0
    h = int(hour)
    if meridiem is None:
        return h
    if not 1 <= h <= 12:
        return -1
    return h % 12 + (12 if meridiem in "Pp" else 0)


def _offset(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def date_read(fmt: DateFormat, value: str, zone: tzinfo) -> datetime | None:
    """The aware datetime ``value`` means in ``fmt`` (naive values in ``zone``), or None."""
    m = _VALUE.fullmatch(value)
    if m is None or m.group(2) != fmt.sep:
        return None
    ymd = _ymd(fmt, *m.group(1, 3, 4))
    if ymd is None:
        return None
    hour, minute, second, fraction, meridiem, offset = m.group(5, 6, 7, 8, 9, 10)
    micro = int((fraction or "0").ljust(6, "0")) if fraction else 0
    tz = _offset(offset) if offset else zone
    try:
        return datetime(
            *ymd,
            _hour(hour, meridiem),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None


#: the match of a date value, for :meth:`ColumnDates.observe_match` and :func:`date_matcher`
value_match = _VALUE.fullmatch


def date_reader(fmt: DateFormat, zone: tzinfo) -> Callable[[str], datetime | None]:
    """``date_read`` for one format and zone, remembering the days already read."""
    read_match = date_matcher(fmt, zone)
    fullmatch = _VALUE.fullmatch

    def read(value: str) -> datetime | None:
        return read_match(fullmatch(value))

    return read


def date_matcher(
    fmt: DateFormat, zone: tzinfo
) -> Callable[[re.Match[str] | None], datetime | None]:
    """:func:`date_reader` taking ``value_match(value)`` (already done) instead of the value."""
    days: dict[tuple[str, str, str], tuple[int, int, int] | None] = {}
    sep_wanted = fmt.sep

    def read(m: re.Match[str] | None) -> datetime | None:
        if m is None:
            return None
        a, sep, b, c, hour, minute, second, fraction, meridiem, offset = m.groups()
        if sep != sep_wanted:
            return None
        key = (a, b, c)
        try:
            ymd = days[key]
        except KeyError:
            ymd = _ymd(fmt, a, b, c)
            if len(days) >= _CACHE_MAX:
                days.clear()
            days[key] = ymd
        if ymd is None:
            return None
        micro = int(fraction.ljust(6, "0")) if fraction else 0
        tz = _offset(offset) if offset else zone
        try:
            return datetime(
                ymd[0],
                ymd[1],
                ymd[2],
                (int(hour) if meridiem is None else _hour(hour, meridiem)) if hour else 0,
                int(minute) if minute else 0,
                int(second) if second else 0,
                micro,
                tzinfo=tz,
            )
        except ValueError:
            return None

    return read
