"""Pages under ``o/<slug:org>/focus/``."""

from django.urls import path

from keepscore.focus import views

urlpatterns = [
    path("", views.focus, name="focus"),
    path("card/", views.focus_card, name="focus_card"),
]
