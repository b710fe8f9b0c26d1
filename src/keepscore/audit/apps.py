"""The audit app; when Django starts, its receivers record sign-ins and changes."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "keepscore.audit"
    label = "audit"
    verbose_name = "audit log"

    def ready(self) -> None:
        from keepscore.audit import receivers

        receivers.connect()
