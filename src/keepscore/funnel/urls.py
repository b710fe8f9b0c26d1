"""Pages under ``o/<slug:org>/funnel/``."""

from django.urls import path

from keepscore.funnel import activity_views, report_views, views

urlpatterns = [
    path("", views.funnel, name="funnel"),
    path("activity/", activity_views.activity, name="activity_report"),
    path("jobs/", report_views.jobs, name="jobs_report"),
    path("objections/", report_views.objections, name="objections_report"),
]
