"""``import all``: an ``export all`` archive read back into a new, empty organization.

Every record comes back as it was exported, matched by its exported id (leads by their
``key``, never by name, email or phone: two leads sharing a phone number stay two), with
its stage history, outcomes and their lines, corrections, later touches, activities,
objections, qualification answers, follow-ups, web forms and their submissions, and the
settings the figures are computed with: the ladder, channels, lost reasons, checklist,
products and default margin, spend and cash, manual metrics and their values, targets,
goals, review entries and kept diagnoses. Members are matched by email: an existing user
joins with the archive's roles; anyone else becomes a user without login.

All of it in one transaction, through the recorder's bulk writer (``history.bulk``, which
builds the summaries when it ends) and the services for members: a damaged archive or a
bad cell leaves nothing behind, and the error names the file inside the zip, the row (as a
spreadsheet numbers it: the header is row 1) and the column.

Not kept: when each row was created or last updated (``created_at``, ``updated_at``: the
import's time), API tokens (made again), import jobs and their uploads.

This module holds the entry point, :func:`import_archive`, and the organization filled; the
archive's files are read by :mod:`~keepscore.imports.archive_files`, its rows mapped onto the
organization by :mod:`~keepscore.imports.archive_mapping` (members and settings) and
:mod:`~keepscore.imports.archive_records` (the records), and written by
:mod:`~keepscore.imports.archive_writing`.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from keepscore.accounts.models import Organization
from keepscore.audit import services as audit
from keepscore.common import money
from keepscore.economics.models import CashPosition, MoneySettings, Product, Spend
from keepscore.history import recorder
from keepscore.history.bulk import bulk
from keepscore.imports.archive_files import ArchiveError, Reader
from keepscore.imports.archive_mapping import ArchiveImportResult, Progress
from keepscore.imports.archive_records import Importer
from keepscore.leads.models import Channel, Lead, LostReason, QualificationCriterion, Stage
from keepscore.scorecard.models import Goal, ManualMetric, ReviewEntry, Target
from keepscore.webforms.models import WebForm

__all__ = ["ArchiveError", "ArchiveImportResult", "import_archive"]


# --- the organization -------------------------------------------------------------------

#: what an organization holding records has (an empty one has only its default settings)
HOLDS = (Lead, Spend, Product, ManualMetric, Goal, Target, WebForm, CashPosition, ReviewEntry)


def _organization(slug: str, name: str | None, reader: Reader) -> Organization:
    """The organization to fill: a new one (named as the exported one unless ``name``), or an
    existing one that holds no records yet, whose default settings the archive's replace."""
    slug = slug.strip().lower()
    existing = Organization.objects.filter(slug=slug).first()  # see _money_of_archive
    if existing is None:
        exported = reader.manifest.get("organization")
        default = exported.get("name") if isinstance(exported, dict) else None
        organization = Organization(name=(name or default or slug).strip()[:200], slug=slug)
        _money_of_archive(organization, exported)
        try:
            organization.full_clean()
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {}
            text = "; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items()) or str(error)
            raise ArchiveError(f"cannot make the organization {slug!r}: {text}") from None
        organization.save()
        return organization
    for model in HOLDS:
        if model.objects.filter(organization=existing).exists():
            what = model._meta.verbose_name_plural
            raise ArchiveError(
                f"the organization {slug!r} holds records already ({what}): import into a new "
                "organization (a slug not taken)"
            )
    # its default settings go: the archive brings its own (and its currency)
    exported = reader.manifest.get("organization")
    if isinstance(exported, dict) and "currency" in exported:
        _money_of_archive(existing, exported)
        existing.save(update_fields=["currency", "number_locale"])
    for stage in Stage.objects.for_org(existing):
        recorder.stage_delete(stage=stage)
    defaults: tuple[type[Model], ...] = (QualificationCriterion, LostReason, Channel, MoneySettings)
    for default in defaults:
        default._default_manager.filter(organization=existing).delete()
    if name:
        existing.name = name.strip()[:200]
        existing.save(update_fields=["name"])
    return existing


def _noop(phase: str, fraction: float) -> None:
    pass


def import_archive(
    *, path: Path, slug: str, name: str | None = None, progress: Progress = _noop
) -> ArchiveImportResult:
    """Read the ``export all`` archive at ``path`` into the organization ``slug`` (new, or
    existing and empty), all or nothing. Raises :class:`ArchiveError` naming what is wrong."""
    started = time.monotonic()
    reader = Reader(path)
    try:
        progress("checking the archive", 0.0)
        reader.check()
        with transaction.atomic():
            organization = _organization(slug, name, reader)
            importer = Importer(reader, organization, progress)
            importer.members_read()
            with bulk(organization, rebuild=True) as block:
                importer.settings_read(block)
                importer.history_read(block)
                importer.rest_read()
                progress("counting the summaries", 1.0)
            _closing_check(importer)
            counts = importer.result.counts
            audit.record(
                action="imported",
                organization=organization,
                object_type="archive",
                summary=f"an export-all archive: {sum(counts.values()):,} rows "
                f"in {len(counts)} tables",
            )
    finally:
        reader.close()
    result = importer.result
    result.seconds = time.monotonic() - started
    return result


def _closing_check(importer: Importer) -> None:
    """What the archive's manifest says it holds is what was read."""
    counts = importer.reader.manifest.get("counts", {})
    if not isinstance(counts, dict):
        return
    for name, expected in counts.items():
        got = importer.result.counts.get(name)
        if got is not None and isinstance(expected, int) and got != expected:
            raise ArchiveError(
                f"{importer.reader.label}: {name}.csv holds {got} rows, its manifest says "
                f"{expected}: the archive is not whole"
            )


def _money_of_archive(organization: Organization, exported: object) -> None:
    """The exported organization's currency and number format (archives made before they
    existed keep the defaults); a bad one stops the import."""
    if not isinstance(exported, dict) or "currency" not in exported:
        return
    try:
        organization.currency = money.currency_clean(exported.get("currency"))
        organization.number_locale = money.locale_clean(
            exported.get("number_locale", organization.number_locale)
        )
    except ValidationError as error:
        text = "; ".join(" ".join(v) for v in error.message_dict.values())
        raise ArchiveError(f"manifest.json: {text}") from None
