from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "keepscore.audit"
    label = "audit"
    verbose_name = "audit log"

    def ready(self) -> None:
        from keepscore.audit import receivers

        receivers.connect()
