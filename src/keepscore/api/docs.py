"""The API's Swagger UI (django-ninja's bundled files), under the app's Content-Security-Policy.

The page has no inline script or style (ninja reads its settings from a JSON block in an init
file), but the Swagger UI draws some icons as ``data:`` SVG images (the arrows of an opened
operation): this one view allows ``img-src data:``, and nothing else more than every page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from ninja.openapi.docs import ABS_TPL_PATH, Swagger

from keepscore.common.headers import csp_update_response

if TYPE_CHECKING:
    from ninja import NinjaAPI


class SwaggerDocs(Swagger):
    """ninja's Swagger UI page, with ``data:`` images allowed on it alone.

    ninja draws its page from a CDN unless the string ``"ninja"`` is in ``INSTALLED_APPS``;
    the app is installed under another name (``keepscore.api.ninja_files``), so its page
    with the bundled files stands in for the CDN one."""

    template_cdn = str(ABS_TPL_PATH / "swagger.html")

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        response = super().render_page(request, api, **kwargs)
        return csp_update_response(request, response, {"img-src": ["data:"]})
