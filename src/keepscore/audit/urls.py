"""The audit log, mounted at ``o/<slug:org>/settings/audit/`` (owners)."""

from django.urls import path

from keepscore.audit import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
]
