"""A lead's person: their data exported or erased (owners), under ``o/<slug:org>/``."""

from django.urls import path

from keepscore.privacy import views

urlpatterns = [
    path("leads/<int:pk>/person/export/", views.person_export, name="lead_person_export"),
    path("leads/<int:pk>/person/erase/", views.person_erase, name="lead_person_erase"),
]
