"""Exports, mounted at ``o/<slug:org>/export/``."""

from django.urls import path

from keepscore.exports import views

urlpatterns = [
    path("", views.export_index, name="export_index"),
    path("download/", views.export_download, name="export_download"),
    path("leads/", views.export_leads, name="export_leads"),
]
