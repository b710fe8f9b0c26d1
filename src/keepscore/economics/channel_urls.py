"""Pages under ``o/<slug:org>/economics/``: channel economics and its CSV."""

from django.urls import path

from keepscore.economics import channel_views

urlpatterns = [
    path("", channel_views.channels, name="economics"),
    path("channels.csv", channel_views.channels_export, name="economics_csv"),
]
