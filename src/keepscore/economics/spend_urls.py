"""Pages under ``o/<slug:org>/spend/``: sources & spend, its import and export, and cash."""

from django.urls import path

from keepscore.economics import spend_views as views

urlpatterns = [
    path("", views.spend, name="spend"),
    path("import/", views.spend_import, name="spend_import"),
    path("export.csv", views.spend_export, name="spend_export"),
    path("cash/", views.cash, name="cash"),
]
