"""Web form settings, mounted at ``o/<slug:org>/settings/forms/`` (owners only)."""

from django.urls import path

from keepscore.webforms import views

urlpatterns = [
    path("", views.webform_list, name="webform_list"),
    path("add/", views.webform_add, name="webform_add"),
    path("<int:form_pk>/", views.webform_edit, name="webform_edit"),
]
