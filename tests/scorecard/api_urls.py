"""The project's URLs plus a test API with the scorecard router, until it is registered in
``keepscore.api.api`` (a ninja router can be mounted on several APIs)."""

from django.urls import path
from ninja import NinjaAPI

from keepscore.api.auth import TokenAuth
from keepscore.api.errors import handlers_register
from keepscore.api.metrics import router
from keepscore.config.urls import urlpatterns as project_urlpatterns

api = NinjaAPI(urls_namespace="scorecard_test_api", auth=TokenAuth(), docs_url=None)
handlers_register(api)
api.add_router("", router)

urlpatterns = [path("api/scorecard-test/", api.urls), *project_urlpatterns]
