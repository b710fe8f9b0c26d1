"""The REST API, mounted at ``/api/v1/``: ``Authorization: Bearer <token>`` on every call.

The OpenAPI document is at ``/api/v1/openapi.json``; the docs at ``/api/v1/docs`` use the
Swagger UI files ninja ships (served from ``/static/``, so they work offline), with the one
relaxation of the Content-Security-Policy they need (``keepscore.api.docs``).
"""

from __future__ import annotations

from ninja import NinjaAPI

from keepscore.api import (
    activities,
    activity,
    audit,
    channels,
    economics,
    focus,
    funnel,
    imports,
    invitations,
    leads,
    metrics,
    notices,
    outcomes,
    people,
    products,
    review_meeting,
    scorecard,
    stages,
    tasks,
)
from keepscore.api.auth import TokenAuth
from keepscore.api.docs import SwaggerDocs
from keepscore.api.errors import handlers_register
from keepscore.api.plan import router as plan_router
from keepscore.api.reports import router as reports_router
from keepscore.api.spend import router as spend_router

api = NinjaAPI(
    title="keepscore",
    version="1",
    description=(
        "The sales & marketing scorecard's REST API. Authenticate with a member's API token: "
        "`Authorization: Bearer ks_…`. A token sees only its organization. Errors are "
        '`{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`.'
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    docs=SwaggerDocs(settings={"persistAuthorization": False}),
)
handlers_register(api)
api.add_router("", leads.router)
api.add_router("", activities.router)
api.add_router("", channels.router)
api.add_router("", stages.router)
api.add_router("", outcomes.router)
api.add_router("", imports.router)
api.add_router("", metrics.router)
api.add_router("", scorecard.router)
api.add_router("", funnel.router)
api.add_router("", activity.router)
api.add_router("", products.router)
api.add_router("", focus.router)
api.add_router("", economics.router)
api.add_router("", reports_router)
api.add_router("", spend_router)
api.add_router("", tasks.router)
api.add_router("", audit.router)
api.add_router("", people.router)
api.add_router("", invitations.router)
api.add_router("", plan_router)
api.add_router("", notices.router)
api.add_router("", review_meeting.router)
