"""Pre-aggregated, incrementally maintained summaries of the funnel (see docs/numbers.md,
"Summaries", and ``keepscore.funnel.summary``).

Every count is additive: maintenance adds a lead's contributions (+1) or takes them away
(-1) with ``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x``. Stage, channel and
member ids are plain integers, not foreign keys: a ladder edit rebuilds the summaries, and
readers map ids they no longer know to "(none)".
"""

from __future__ import annotations

from django.db import models

#: the ``within_days`` windows a cohort count carries, besides "ever"
WINDOWS = (7, 14, 30, 60, 90, 180, 365)


def _org() -> models.ForeignKey:
    return models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )


class SummaryState(models.Model):
    """That an organization's summaries are built, for which ladder, time zone and code
    version (a summary built under other settings is rebuilt before use)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveIntegerField()
    #: the ladder the counts were made with: "id:kind" in ladder order
    ladder = models.TextField()
    #: settings.TIME_ZONE when they were built: the months they count by
    zone = models.CharField(max_length=64, default="")
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"summaries of {self.organization_id} (v{self.version})"


class MonthBound(models.Model):
    """The first moment (UTC) of each local month in a time zone: maps a moment to its month
    in SQL (the greatest ``since`` at or before it)."""

    zone = models.CharField(max_length=64)
    since = models.DateTimeField()
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["zone", "since"], name="monthbound_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.month}"


#: ``CohortCount.stage_a`` of the funnel's entry cohort (every lead, by its first change)
ENTRY = 0


class CohortCount(models.Model):
    """Leads first *observed* at ``stage_a`` in ``month`` (local: their first stage change
    into it), by channel and owner, that reached ``stage_b`` at or after it: ever and within
    each window. ``stage_a == stage_b`` rows are the cohort itself (n). ``stage_a`` 0
    (:data:`ENTRY`) is the cohort of leads entering the funnel in the month (their first
    stage change, at whatever stage): the overall steps'."""

    organization = _org()
    month = models.DateField()
    stage_a = models.BigIntegerField()
    stage_b = models.BigIntegerField()
    channel = models.BigIntegerField()
    owner = models.BigIntegerField()  # membership id; 0: no owner
    k_ever = models.BigIntegerField(default=0)
    k_7 = models.BigIntegerField(default=0)
    k_14 = models.BigIntegerField(default=0)
    k_30 = models.BigIntegerField(default=0)
    k_60 = models.BigIntegerField(default=0)
    k_90 = models.BigIntegerField(default=0)
    k_180 = models.BigIntegerField(default=0)
    k_365 = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "stage_a", "stage_b", "channel", "owner"],
                name="cohortcount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.stage_a}>{self.stage_b}: {self.k_ever}"


class ReachCount(models.Model):
    """Leads whose *reach* of ``stage`` is in ``month`` (their earliest change into it or any
    later stage that is not lost), by channel and owner; ``skipped``: of those, the ones
    that reached it by entering a later stage (not observed at it then)."""

    organization = _org()
    month = models.DateField()
    stage = models.BigIntegerField()
    channel = models.BigIntegerField()
    owner = models.BigIntegerField()  # membership id; 0: no owner
    reached = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "stage", "channel", "owner"],
                name="reachcount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.stage}: {self.reached} ({self.skipped} skipped)"


class EntryCount(models.Model):
    """Leads with an explicit entry into ``stage`` in ``month`` whose previous month with an
    entry into it is ``prev_month`` (0001-01-01: none). Leads with an entry in months P..Q
    are the rows of P..Q with ``prev_month < P``: each lead is counted once."""

    organization = _org()
    month = models.DateField()
    prev_month = models.DateField()
    stage = models.BigIntegerField()
    channel = models.BigIntegerField()
    owner = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "stage", "prev_month", "channel", "owner"],
                name="entrycount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.stage}: {self.n}"


class MonthCount(models.Model):
    """Additive flows per local month: new leads, outcomes (money in cents), the close
    rate's counts, activities, each stage's reach by who sourced the lead. ``member`` (0:
    none) is who logged an activity, who sourced a new lead or a reach
    (``sourced_reached.<stage id>``), and the lead's owner for outcomes and the close
    rate."""

    organization = _org()
    month = models.DateField()
    metric = models.CharField(max_length=40)
    channel = models.BigIntegerField()
    member = models.BigIntegerField()
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "metric", "channel", "member"],
                name="monthcount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.metric}: {self.value}"


class FirstWin(models.Model):
    """A lead's first won outcome (its earliest by date): the local month it is dated in and
    the sales cycle, whole microseconds from the lead's first touch to it (negative when the
    win is dated before the first touch). One row per lead that was ever won."""

    organization = _org()
    month = models.DateField()
    channel = models.BigIntegerField()
    owner = models.BigIntegerField()  # membership id; 0: no owner
    lead = models.BigIntegerField()
    cycle_us = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "lead"], name="firstwin_unique"),
        ]
        indexes = [
            # each month's sales cycle quantiles in order, and first wins by channel (the
            # focus's channels) from the index alone
            models.Index(
                fields=["organization", "month", "cycle_us", "channel"], name="firstwin_month_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} lead {self.lead}: {self.cycle_us} µs"


class CycleDayCount(models.Model):
    """The first wins of a local month by the whole days of their sales cycle (``day``: the
    cycle's microseconds over a day's, rounded down; negative when the win is dated before
    the first touch). A run of months' sales cycle quantiles add these up to find the day
    holding each rank, then read only that day's first wins from FirstWin's index, not
    every first win of the months in order (a year at 1M leads: 100,000 of them)."""

    organization = _org()
    month = models.DateField()
    day = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "day"], name="cycledaycount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} day {self.day}: {self.n}"


class CloseCount(models.Model):
    """The close rate's leads, countable once over any run of months: leads with an outcome
    dated in ``month`` whose next month with an outcome is ``next_month`` (9999-12-01: none),
    by their last outcome in ``month`` (``closed``: all, ``won``: won). Over months P..Q each
    lead counts once, by its last outcome in the span: the rows of P..Q with
    ``next_month > Q``."""

    organization = _org()
    month = models.DateField()
    next_month = models.DateField()
    channel = models.BigIntegerField()
    owner = models.BigIntegerField()
    closed = models.BigIntegerField(default=0)
    won = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "next_month", "channel", "owner"],
                name="closecount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} (next {self.next_month}): {self.won} of {self.closed}"


class StageCount(models.Model):
    """Leads whose current stage is ``stage``: the dashboard's "now at each stage" without
    counting the organization's leads."""

    organization = _org()
    stage = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "stage"], name="stagecount_unique"),
        ]

    def __str__(self) -> str:
        return f"stage {self.stage}: {self.n}"


class WonConversation(models.Model):
    """A lead's sales conversations that led to a won deal (docs/numbers.md, "Activity
    counts": dated at or before the lead's last won outcome), per local month and member who
    logged them (0: no one). Kept per lead so that a lead's rows can be replaced whole when
    its activities or outcomes change; their sums per month, channel and member are
    MonthCount's ``conversations_won``."""

    organization = _org()
    lead = models.BigIntegerField()
    month = models.DateField()
    member = models.BigIntegerField()
    channel = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "lead", "month", "member"], name="wonconversation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} lead {self.lead} member {self.member}: {self.n}"


class ObjectionCount(models.Model):
    """Objections per local month, tag, the stage the lead was at when it was logged (its
    last stage change at or before it, ties by id; 0: before the lead's first change) and
    the lead's channel: the objections report without reading the objections."""

    organization = _org()
    month = models.DateField()
    tag = models.CharField(max_length=40)
    stage = models.BigIntegerField()
    channel = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "tag", "stage", "channel"],
                name="objectioncount_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.tag} at stage {self.stage}: {self.n}"
