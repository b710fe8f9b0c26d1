"""The web import, mounted at ``o/<slug:org>/import/``."""

from django.urls import path

from keepscore.imports import views

urlpatterns = [
    path("", views.import_index, name="import_index"),
    path("<int:job_pk>/", views.import_job, name="import_job"),
    path("<int:job_pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:job_pk>/report.csv", views.import_report, name="import_report"),
]
