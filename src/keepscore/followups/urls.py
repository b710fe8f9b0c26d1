"""Follow-up pages under ``o/<slug:org>/``."""

from django.urls import path

from keepscore.followups import views

urlpatterns = [
    path("today/", views.today, name="today"),
    path("leads/<int:pk>/followups/", views.followup_add, name="followup_add"),
    path("followups/<int:pk>/done/", views.followup_done, name="followup_done"),
    path("followups/<int:pk>/reschedule/", views.followup_reschedule, name="followup_reschedule"),
]
