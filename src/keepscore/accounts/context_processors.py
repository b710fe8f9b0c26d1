"""What every page's template gets: the user's organizations and the one open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def organizations(request: HttpRequest) -> dict[str, Any]:
    """The current organization and member, and the user's others for the switcher."""
    org = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    others: list[Any] = []
    if org is not None and request.user.is_authenticated:
        from keepscore.accounts.selectors import organizations_of_user

        others = [o for o in organizations_of_user(user=request.user) if o.pk != org.pk]
    return {"organization": org, "membership": membership, "other_organizations": others}
