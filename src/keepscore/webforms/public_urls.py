"""The public web form, mounted at ``f/``: addressed by the form's random key, never its pk."""

from django.urls import path

from keepscore.webforms import views

urlpatterns = [
    path("<str:key>/", views.public_form, name="webform_public"),
    path("<str:key>/thanks/", views.thanks, name="webform_thanks"),
]
