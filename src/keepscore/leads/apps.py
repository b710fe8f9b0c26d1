from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "keepscore.leads"
    label = "leads"
