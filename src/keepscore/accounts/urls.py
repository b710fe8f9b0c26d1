"""Members, mounted at ``o/<slug:org>/members/`` (owners only)."""

from django.urls import path

from keepscore.accounts import views

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("add/", views.member_add, name="member_add"),
    path("invite/", views.member_invite, name="member_invite"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("<int:pk>/", views.member_edit, name="member_edit"),
    path("<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("<int:pk>/unlock/", views.member_unlock, name="member_unlock"),
]
