"""Every error is JSON ``{"detail": "...", "errors": [{"field": "...", "message": "..."}]}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

#: where ninja puts a value in an error's ``loc``, before the field's own path
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file", "payload", "filters"}


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


def service_errors(exc: Any) -> list[dict[str, str]]:
    """A service's ValidationError, one item per message, named by its field."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if field == NON_FIELD_ERRORS else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def _field(loc: Any) -> str:
    parts = [str(p) for p in (loc or [])]
    while parts and parts[0] in _LOCATIONS:
        parts.pop(0)
    return ".".join(parts)


def request_errors(exc: Any) -> list[dict[str, str]]:
    return [
        {"field": _field(e.get("loc")), "message": str(e.get("msg", "Invalid value."))}
        for e in exc.errors
    ]


def _summary(errors: list[dict[str, str]]) -> str:
    first = errors[0] if errors else {"field": "", "message": "Invalid input."}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    field = f"{first['field']}: " if first["field"] else ""
    return f"{field}{first['message']}{more}"


def handlers_register(api: NinjaAPI) -> None:
    def on_service_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = service_errors(exc)
        return api.create_response(request, error_body(_summary(errors), errors), status=422)

    def on_request_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = request_errors(exc)
        return api.create_response(request, error_body(_summary(errors), errors), status=422)

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(request, error_body("Not found."), status=404)

    def on_unauthorized(request: HttpRequest, exc: Any) -> HttpResponse:
        response = api.create_response(
            request,
            error_body("A valid API token is needed: Authorization: Bearer <token>."),
            status=401,
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(request, error_body(str(exc)), status=exc.status_code)

    api.add_exception_handler(DjangoValidationError, on_service_error)
    api.add_exception_handler(NinjaValidationError, on_request_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(AuthenticationError, on_unauthorized)
    api.add_exception_handler(HttpError, on_http_error)
