"""The accounts app: organizations, users, members and their roles."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keepscore.accounts"
    label = "accounts"
