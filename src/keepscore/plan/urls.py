"""Pages under ``o/<slug:org>/plan/``."""

from django.urls import path

from keepscore.plan import views

urlpatterns = [
    path("", views.plan_page, name="plan"),
    path("accept/", views.plan_accept, name="plan_accept"),
]
