"""An audit event: one thing done (or refused), by whom, through what, from where."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Via(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"


class Action(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    IMPORTED = "imported", "Imported"
    EXPORTED = "exported", "Exported"
    LOGGED_IN = "logged_in", "Signed in"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    UNLOCKED = "unlocked", "Unlocked"
    REFUSED = "refused", "Refused"
    PERSON_EXPORTED = "person_exported", "Person's data exported"
    ERASED = "erased", "Person erased"
    BACKED_UP = "backed_up", "Backed up"
    RESTORED = "restored", "Restored from a backup"
    INVITED = "invited", "Invited"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    JOINED = "joined", "Joined (invitation accepted)"
    PASSWORD_RESET = "password_reset", "Password reset by email"


class AuditEvent(models.Model):
    """Append-only (the database refuses an update). Users, members and objects are kept as
    ids, not keys: the record outlives what it names. ``address`` is a keyed hash of the
    client's address, never the address; ``summary`` holds field names and counts, never
    values."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, choices=Via.choices)
    user_id = models.BigIntegerField(null=True, blank=True)
    membership_id = models.BigIntegerField(null=True, blank=True)
    address = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"
