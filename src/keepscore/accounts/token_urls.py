"""API tokens, mounted at ``o/<slug:org>/tokens/`` (every member, for their own tokens)."""

from django.urls import path

from keepscore.accounts import token_views as views

urlpatterns = [
    path("", views.token_list, name="token_list"),
    path("<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
