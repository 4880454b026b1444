"""The one error type of the domain, and the one JSON shape every API error takes.

Every 4xx body is `{"code": ..., "detail": ..., "fields"?: {field: [messages]}}`: `code` is
stable and machine-readable, `detail` is for people, `fields` names what to fix.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

# The HTTP status of a refusal follows from its kind, chosen here and nowhere else: the
# services say what was refused (the code), never how the API answers it.
REFUSED_FOR_WHO_YOU_ARE = frozenset(
    {
        "not_a_practitioner",
        "not_front_desk",
        "not_treating_practitioner",
        "own_care_assignment",
        "two_factor_required",
    }
)
NOT_SIGNED_IN = frozenset({"no_active_account", "token_not_valid"})
INVALID_INPUT = frozenset(
    {"identity_locked", "invalid", "invalid_measure", "invalid_token", "reason_required"}
)
# Well-formed, but it contradicts an earlier request made with the same key.
UNPROCESSABLE = frozenset({"idempotency_key_reused"})
TOO_MANY_ATTEMPTS = frozenset({"locked_out", "too_many_holds"})

STATUS_BY_CODE: dict[str, int] = {
    **dict.fromkeys(REFUSED_FOR_WHO_YOU_ARE, 403),
    **dict.fromkeys(NOT_SIGNED_IN, 401),
    **dict.fromkeys(INVALID_INPUT, 400),
    **dict.fromkeys(UNPROCESSABLE, 422),
    **dict.fromkeys(TOO_MANY_ATTEMPTS, 429),
}
# Any other refusal conflicts with the state of things (a taken slot, a signed note).
CONFLICT = 409


def status_for(code: str) -> int:
    """The HTTP status the API answers a refusal with code `code`."""
    return STATUS_BY_CODE.get(code, CONFLICT)


class DomainError(Exception):
    """A business rule refused an action. `code` is stable: clients and tests match on it,
    and the API's status follows from it (`status_for`)."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fields = fields
        # Further keys of the answer's body, for a refusal that names several things each
        # with its own code (a course's refused visits).
        self.extra = extra or {}

    @property
    def status_code(self) -> int:
        return status_for(self.code)

    @classmethod
    def invalid(cls, field: str, messages: list[str]) -> "DomainError":
        """A value the rule refuses, named by its field (400, like a serializer's)."""
        return cls("invalid", "Some fields are not valid.", fields={field: messages})

    def as_dict(self) -> dict[str, Any]:
        return {**self.extra, **error_body(self.code, self.detail, self.fields)}


def error_body(code: str, detail: str, fields: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", "Some fields are not valid.", _flatten(exc.detail))
    else:
        response.data = error_body(_code_of(exc), _message_of(exc.detail))
    return response


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict) and isinstance(codes.get("code"), str):
        return codes["code"]  # simplejwt's token errors
    return exc.default_code


def _message_of(detail: Any) -> str:
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return str(detail)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "nested.field": [...], "items.0.x": [...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                name = prefix
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


# Django's own error pages, for requests that never reach a DRF view (an /api/ path that
# matches no route, a crash in middleware): JSON under /api/, HTML elsewhere.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Under /api/ the error shape; elsewhere (the admin: a member of staff whose role does
    not reach a page) a page of the admin's own look, saying so, instead of Django's bare
    "403 Forbidden"."""
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."),
            status=403,
        )
    context = {"title": "You don't have access to this page", "exception": str(exception)}
    if hasattr(request, "user"):  # a refusal in a middleware may come before the login
        # Without the side bar: a refusal page lists nothing, not even the user's own models.
        context = {**admin.site.each_context(request), **context, "is_nav_sidebar_enabled": False}
    return TemplateResponse(request, "admin/403.html", context, status=403).render()


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it is logged."),
            status=500,
        )
    return defaults.server_error(request)
