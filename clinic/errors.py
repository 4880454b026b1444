"""The one error type of the domain, and how the API turns errors into JSON."""

from typing import Any


class DomainError(Exception):
    """A business rule refused an action. `code` is stable: clients and tests match on it."""

    status_code = 409

    def __init__(self, code: str, detail: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fields = fields

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        return body


def api_exception_handler(exc: Exception, context: dict) -> Any:
    from rest_framework.response import Response
    from rest_framework.views import exception_handler

    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    return exception_handler(exc, context)
