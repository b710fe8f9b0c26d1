"""Lead pages, all under ``o/<slug:org>/``. Other apps rely on these URL names."""

from django.urls import path

from keepscore.leads import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/add/", views.lead_add, name="lead_add"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/move/", views.lead_move, name="lead_move"),
    path(
        "leads/<int:pk>/moves/<int:change_pk>/undo/",
        views.stage_change_undo,
        name="stage_change_undo",
    ),
    path(
        "leads/<int:pk>/qualification/<int:criterion_pk>/",
        views.lead_qualify,
        name="lead_qualify",
    ),
    path("leads/<int:pk>/activities/", views.activity_log, name="activity_log"),
    path("leads/<int:pk>/log/", views.lead_quick_log, name="lead_quick_log"),
    path("leads/<int:pk>/objections/", views.objection_add, name="objection_add"),
    path("board/", views.lead_board, name="lead_board"),
    path("board/<int:pk>/move/", views.lead_board_move, name="lead_board_move"),
]
