"""Pages under ``o/<slug:org>/scorecard/``."""

from django.urls import path

from keepscore.scorecard import export_views, review_views, targets_views, views

urlpatterns = [
    path("", views.scorecard, name="scorecard"),
    path("<int:year>-<int:month>/", views.scorecard_month, name="scorecard_month"),
    path(
        "<int:year>-<int:month>/export.<str:ext>",
        export_views.scorecard_export,
        name="scorecard_export",
    ),
    path("<int:year>-<int:month>/pdf/", export_views.scorecard_pdf_page, name="scorecard_pdf"),
    path("metrics/", targets_views.metrics, name="scorecard_metrics"),
    path("metrics/<int:metric_pk>/", targets_views.metric_edit, name="scorecard_metric_edit"),
    path("values/", targets_views.values, name="scorecard_values"),
    path("targets/", targets_views.targets, name="scorecard_targets"),
    path("targets/<int:year>.csv", targets_views.targets_csv, name="scorecard_targets_csv"),
    path("targets/upload/", targets_views.targets_upload, name="scorecard_targets_upload"),
    path("<int:year>-<int:month>/review/", review_views.review, name="scorecard_review"),
    path("review-meeting/", review_views.review_meeting, name="scorecard_review_meeting"),
]
