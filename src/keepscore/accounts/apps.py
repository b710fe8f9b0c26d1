from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keepscore.accounts"
    label = "accounts"
