"""Pages under ``o/<slug:org>/funnel/``."""

from django.urls import path

from keepscore.funnel import views

urlpatterns = [
    path("", views.funnel, name="funnel"),
]
