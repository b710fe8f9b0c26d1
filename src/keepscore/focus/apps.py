from django.apps import AppConfig


class FocusConfig(AppConfig):
    name = "keepscore.focus"
    label = "focus"
    verbose_name = "Focus: sales or marketing?"
