"""Helpers for the import tests: files written on the fly, the shared Olist data set."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from keepscore.leads.models import Lead
from tests.exports.conftest import known  # noqa: F401 (an organization with known records)


def olist_dir() -> Path:
    """``shared/datasets/olist-marketing-funnel`` beside the repository (or above it), or
    under ``$KEEPSCORE_SHARED``. Missing data fails the test: a skip would hide it."""
    here = Path(__file__).resolve()
    roots = [Path(os.environ["KEEPSCORE_SHARED"])] if os.environ.get("KEEPSCORE_SHARED") else []
    roots += [parent / "shared" for parent in here.parents]
    for root in roots:
        candidate = root / "datasets" / "olist-marketing-funnel"
        if candidate.is_dir():
            return candidate
    pytest.fail("the shared Olist data set is not beside the repository (set KEEPSCORE_SHARED)")


def write_csv(
    path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path


def assert_leads_are_the_sheets(organization: Any, rows: list[dict[str, str]]) -> None:
    """The leads of a "Full name, E-mail, Phone, Date added, Lead source, Company" sheet
    imported with no mapping: one per row, each field as the row has it."""
    zone = ZoneInfo(settings.TIME_ZONE)
    assert Lead.objects.for_org(organization).count() == len(rows)
    for row in rows:
        lead = Lead.objects.select_related("channel").get(
            organization=organization, email=row["E-mail"]
        )
        assert (lead.name, lead.phone, lead.company, lead.channel.name) == (
            row["Full name"],
            row["Phone"],
            row["Company"],
            row["Lead source"],
        )
        assert lead.first_touch_at == datetime.fromisoformat(row["Date added"]).replace(tzinfo=zone)
