"""A month's scorecard as a report: its charts, the plan read against it and the PDF, the
same for the page, the export, the worker, the review mail and the CLI; and the charts and
the PDF kept until the data they show changes.

Rendering the PDF takes seconds (WeasyPrint); sending a kept one takes milliseconds. A
kept PDF is the file ``KEEPSCORE_HOME/pdf/<organization id>/kept/<YYYY-MM>-<key>.pdf``;
its key is a hash of everything its content depends on:

- what every kept figure depends on (:func:`keepscore.scorecard.kept.data_parts`): the
  organization's *data revision*, raised in the same transaction as every write that can
  change a figure, the state of its summaries, the time zone and the code's version;
- the organization's name, currency and number locale (written in the PDF);
- the day, for this month and later ones (a month that runs is shown to date); a month
  that is over does not depend on the day;
- the layout (:data:`LAYOUT`).

The revision is read *before* the figures: a PDF rendered while the data changes is kept
under the old revision and never sent again. Another organization's key and folder
differ: a PDF is only ever found under its own organization's id.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.common.periods import Period
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.presenters import chart_stages, overall_step
from keepscore.funnel.selectors import funnel
from keepscore.reports.charts import RateRow, funnel_chart, rate_chart
from keepscore.scorecard.kept import data_parts, day_part, month_parts, remembered, scorecard_kept
from keepscore.scorecard.types import Scorecard

if TYPE_CHECKING:
    from keepscore.plan.check import PlanCheck

#: raise when the PDF's layout changes without a new version of the code
LAYOUT = 1


# --- the report -------------------------------------------------------------------------


def funnel_svg(organization: Organization, period: Period, title: str) -> str:
    report = funnel(organization=organization, period=period)
    stages = chart_stages(group=report.groups[0], ladder=Ladder.of(organization))
    return funnel_chart(stages, title=title)


def _channel_svg(organization: Organization, month: date) -> str:
    period = Period(month_add(month, -11), Period.month(month).end)
    report = funnel(organization=organization, period=period, by="channel")
    rows = []
    for group in report.groups:
        overall = overall_step(group=group)
        if overall is not None:
            rows.append(RateRow.of(group.label, overall.rate))
    first, last = period.start, period.end
    return rate_chart(
        rows, title=f"Lead to customer by channel, {first:%b %Y} to {last:%b %Y} (cohorts)"
    )


def charts_for(organization: Organization, month: date) -> dict[str, str]:
    return {
        f"The funnel, {month:%B %Y}": funnel_svg(
            organization, Period.month(month), f"Leads reaching each stage, {month:%B %Y}"
        ),
        "Conversion by channel, last 12 months": _channel_svg(organization, month),
    }


def _plan_check(organization: Organization, card: Scorecard) -> PlanCheck | None:
    from keepscore.plan.check import plan_check_of_month

    today = card.extra.get("today")
    return plan_check_of_month(
        organization, card.month, today=today if isinstance(today, date) else None
    )


def plan_sentence(organization: Organization, card: Scorecard) -> str:
    """The month read against the saved plan, as the scorecard page says it ("" without a
    plan, or in January while it runs)."""
    found = _plan_check(organization, card)
    return "" if found is None else found.sentence


def plan_json(organization: Organization, card: Scorecard) -> dict[str, object] | None:
    """The same check as the scorecard JSON's ``plan`` (None without a plan)."""
    found = _plan_check(organization, card)
    if found is None:
        return None
    return {
        "verdict": found.verdict,
        "sentence": found.sentence,
        "through": f"{found.through:%Y-%m}",
        "leads": found.leads,
        "leads_plan": round(found.leads_plan, 2),
        "customers": found.customers,
        "customers_plan": round(found.customers_plan, 2),
    }


def month_pdf(organization: Organization, card: Scorecard) -> bytes:
    """The scorecard ``card`` of ``organization`` as its A4 PDF: the tables, the plan check,
    the charts and the review (``PdfUnavailable`` without the PDF library)."""
    from keepscore.reports.scorecard import scorecard_pdf

    return scorecard_pdf(
        card, charts_for(organization, card.month), plan=plan_sentence(organization, card)
    )


# --- kept until the data changes ---------------------------------------------------------


def charts_kept(organization: Organization, month: date) -> dict[str, str]:
    """The scorecard page's charts of the month (SVG), kept as
    :func:`~keepscore.scorecard.kept.scorecard_kept` is."""
    return remembered(
        organization, "charts", month_parts(month), lambda: charts_for(organization, month)
    )


def _folder(organization: Organization) -> Path:
    return Path(settings.KEEPSCORE_HOME) / "pdf" / str(organization.pk) / "kept"


def pdf_key(organization: Organization, month: date, today: date | None = None) -> str:
    """The hash of what the month's PDF shows depends on (see the module)."""
    month = month.replace(day=1)
    today = today or timezone.localdate()
    parts = [
        *data_parts(organization),
        organization.name,
        organization.slug,
        getattr(organization, "currency", ""),
        getattr(organization, "number_locale", ""),
        month.isoformat(),
        day_part(month, today),
        LAYOUT,
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def kept_path(organization: Organization, month: date, today: date | None = None) -> Path:
    return _folder(organization) / f"{month:%Y-%m}-{pdf_key(organization, month, today)}.pdf"


def pdf_filename(organization: Organization, month: date) -> str:
    """``acme-scorecard-2025-03.pdf`` (as ``scorecard_filename`` names it)."""
    return f"{organization.slug}-scorecard-{month:%Y-%m}.pdf"


def _keep(path: Path, body: bytes) -> None:
    """Write ``path`` whole (a reader sees the old file or the new one, never half), and
    remove the month's PDFs kept under other keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    scratch.write_bytes(body)
    os.replace(scratch, path)
    for other in path.parent.glob(f"{path.name[:7]}-*.pdf"):
        if other != path:
            other.unlink(missing_ok=True)


def month_pdf_kept(organization: Organization, month: date) -> bytes:
    """The month's scorecard PDF: the kept one when the data has not changed since it was
    rendered, else rendered now and kept (``PdfUnavailable`` without the PDF library)."""
    month = month.replace(day=1)
    path = kept_path(organization, month)  # before the figures are read
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    body = month_pdf(organization, scorecard_kept(organization, month))
    with contextlib.suppress(OSError):  # not kept (a read-only home): sent all the same
        _keep(path, body)
    return body
