"""Settings, mounted at ``o/<slug:org>/settings/`` (owners only)."""

from django.urls import path

from keepscore.leads import settings_views as views

urlpatterns = [
    path("", views.ladder, name="settings_ladder"),
    path("stages/add/", views.stage_add, name="settings_stage_add"),
    path("stages/<int:pk>/", views.stage_edit, name="settings_stage_edit"),
    path(
        "stages/<int:pk>/shift/<str:direction>/",
        views.stage_shift,
        name="settings_stage_shift",
    ),
    path("stages/<int:pk>/delete/", views.stage_delete, name="settings_stage_delete"),
    path("qualification/", views.qualification, name="settings_qualification"),
    path("qualification/<int:pk>/", views.criterion_edit, name="settings_criterion_edit"),
    path("lost-reasons/", views.lost_reasons, name="settings_lost_reasons"),
    path("lost-reasons/<int:pk>/", views.lost_reason_edit, name="settings_lost_reason_edit"),
    path("channels/", views.channels, name="settings_channels"),
    path("channels/<int:pk>/", views.channel_edit, name="settings_channel_edit"),
]
