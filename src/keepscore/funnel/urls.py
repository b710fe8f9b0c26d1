"""Pages under ``o/<slug:org>/funnel/``."""

from django.urls import path

from keepscore.funnel import activity_views, views

urlpatterns = [
    path("", views.funnel, name="funnel"),
    path("activity/", activity_views.activity, name="activity_report"),
]
