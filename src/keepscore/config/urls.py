"""The project's URLs: the pages of every app under /o/<organization>/, the API, sign-in."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from keepscore.accounts import views as accounts_views
from keepscore.api.api import api

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitation/<str:token>/", accounts_views.invitation_accept, name="invitation_accept"),
    path("password_reset/", accounts_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("o/<slug:org>/", include("keepscore.leads.urls")),
    path("o/<slug:org>/", include("keepscore.followups.urls")),
    path("o/<slug:org>/", include("keepscore.privacy.urls")),
    path("o/<slug:org>/settings/products/", include("keepscore.economics.product_urls")),
    path("o/<slug:org>/settings/audit/", include("keepscore.audit.urls")),
    path("o/<slug:org>/settings/", include("keepscore.leads.settings_urls")),
    path("o/<slug:org>/members/", include("keepscore.accounts.urls")),
    path("o/<slug:org>/tokens/", include("keepscore.accounts.token_urls")),
    path("o/<slug:org>/notices/", include("keepscore.accounts.notice_urls")),
    path("o/<slug:org>/import/", include("keepscore.imports.urls")),
    path("o/<slug:org>/export/", include("keepscore.exports.urls")),
    path("o/<slug:org>/settings/forms/", include("keepscore.webforms.urls")),
    path("o/<slug:org>/funnel/", include("keepscore.funnel.urls")),
    path("o/<slug:org>/economics/", include("keepscore.economics.channel_urls")),
    path("o/<slug:org>/scorecard/", include("keepscore.scorecard.urls")),
    path("o/<slug:org>/spend/", include("keepscore.economics.spend_urls")),
    path("o/<slug:org>/focus/", include("keepscore.focus.urls")),
    path("o/<slug:org>/plan/", include("keepscore.plan.urls")),
    path("f/", include("keepscore.webforms.public_urls")),
    path("api/v1/", api.urls),
]
