"""The economics app: spend, cash, products and deal lines, and what each channel returns."""

from django.apps import AppConfig


class EconomicsConfig(AppConfig):
    name = "keepscore.economics"
    label = "economics"
    verbose_name = "Money: spend, products, margins and cash"
