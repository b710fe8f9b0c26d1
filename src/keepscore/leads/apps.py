"""The leads app; when Django starts, it gives each new organization its default ladder."""

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "keepscore.leads"
    label = "leads"

    def ready(self) -> None:
        # every new organization starts with the default ladder, channels, lost reasons and
        # checklist (accounts creates organizations without importing this app)
        from keepscore.accounts.services import organization_defaults_register
        from keepscore.leads.services import organization_defaults_create

        organization_defaults_register(make=organization_defaults_create)
