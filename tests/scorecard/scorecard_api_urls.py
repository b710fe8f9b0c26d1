"""The project's URLs plus a test API with the scorecard router (until ``keepscore.api.api``
registers it)."""

from django.urls import path
from ninja import NinjaAPI

from keepscore.api.auth import TokenAuth
from keepscore.api.errors import handlers_register
from keepscore.api.scorecard import router
from keepscore.config.urls import urlpatterns as project_urlpatterns

api = NinjaAPI(urls_namespace="scorecard_month_test_api", auth=TokenAuth(), docs_url=None)
handlers_register(api)
api.add_router("", router)

urlpatterns = [path("api/scorecard-test/", api.urls), *project_urlpatterns]
