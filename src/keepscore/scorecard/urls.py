"""Pages under ``o/<slug:org>/scorecard/``."""

from django.urls import path

from keepscore.scorecard import views

urlpatterns = [
    path("", views.scorecard, name="scorecard"),
    path("<int:year>-<int:month>/", views.scorecard_month, name="scorecard_month"),
    path(
        "<int:year>-<int:month>/export.<str:ext>", views.scorecard_export, name="scorecard_export"
    ),
    path("<int:year>-<int:month>/pdf/", views.scorecard_pdf_page, name="scorecard_pdf"),
    path("metrics/", views.metrics, name="scorecard_metrics"),
    path("metrics/<int:metric_pk>/", views.metric_edit, name="scorecard_metric_edit"),
    path("values/", views.values, name="scorecard_values"),
    path("targets/", views.targets, name="scorecard_targets"),
    path("targets/<int:year>.csv", views.targets_csv, name="scorecard_targets_csv"),
    path("targets/upload/", views.targets_upload, name="scorecard_targets_upload"),
    path("<int:year>-<int:month>/review/", views.review, name="scorecard_review"),
    path("review-meeting/", views.review_meeting, name="scorecard_review_meeting"),
]
