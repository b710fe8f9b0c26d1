from django.apps import AppConfig


class FollowUpsConfig(AppConfig):
    name = "keepscore.followups"
    label = "followups"
    verbose_name = "follow-ups"
