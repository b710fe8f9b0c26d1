"""Import jobs: what was imported, from which file, with what result and error report."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.dateparse import parse_datetime

from keepscore.common.models import OrgOwned


class ImportJob(OrgOwned):
    """One run of the import engine (a dry run too), with its counts and error report."""

    class Kind(models.TextChoices):
        LEADS = "leads", "Leads"
        DEALS = "deals", "Deals"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        RUNNING = "running", "Running"
        IMPORTED = "imported", "Imported"
        DRY_RUN = "dry_run", "Checked (dry run)"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    preset = models.CharField(max_length=30)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    #: {"problems": [...], "errors": [[line, column, reason], ...] (first 1,000), ...}
    report = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the web import: the stored upload (relative to KEEPSCORE_HOME), the options of the
    #: last run (mapping, stage and owner maps, …), and its progress while it runs
    upload = models.CharField(max_length=255, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    phase = models.CharField(max_length=20, blank=True, default="")
    #: percent done of the running pass (0 to 100)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.file_name} ({self.status})"

    def created_leads(self) -> tuple[int, int, datetime]:
        """The leads this import created, as the lead list's filter takes them: (first id,
        last id, their created_at); none for an import from before imports kept them."""
        created = self.report.get("created_leads") or {}
        at = parse_datetime(str(created.get("at", "")))
        if at is None:
            return (0, -1, self.started_at)
        return (int(created["first"]), int(created["last"]), at)
