"""A member's own notices, mounted at ``o/<slug:org>/notices/`` (every member)."""

from django.urls import path

from keepscore.accounts import notice_views as views

urlpatterns = [
    path("", views.notices, name="notices"),
]
