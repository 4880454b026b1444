"""OpenAPI generation that documents every error an operation can answer with.

The errors follow from how a view is set up — authentication, permissions, pagination,
a path id, a request body, throttles — so they are derived here once instead of being
repeated (and forgotten) on each view. Views still declare their domain refusals (409).
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

from kernel.rest import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    THROTTLED,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_ERROR,
)


class ClinicAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, response in self._implied_errors().items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(response, code)
        return responses

    def _implied_errors(self) -> dict[str, OpenApiResponse]:
        view = self.view
        takes_body = self.method in ("POST", "PUT", "PATCH")
        authenticators = getattr(view, "authentication_classes", ())
        open_to_all = all(p is AllowAny for p in getattr(view, "permission_classes", ()))
        errors: dict[str, OpenApiResponse] = {}
        if takes_body or self._is_list_view() or self.get_override_parameters():
            errors["400"] = VALIDATION_ERROR
        if authenticators:  # a bad or expired token is refused even where login is optional
            errors["401"] = NOT_AUTHENTICATED
        if not open_to_all or (takes_body and SessionAuthentication in authenticators):
            errors["403"] = FORBIDDEN  # the latter: CSRF for session users
        if "{" in self.path or (self._is_list_view() and getattr(view, "pagination_class", None)):
            errors["404"] = NOT_FOUND  # an id not visible to the caller, or a page past the end
        if takes_body:
            errors["415"] = UNSUPPORTED_MEDIA_TYPE
        if getattr(view, "throttle_classes", ()):
            errors["429"] = THROTTLED
        return errors


class ClinicJWTScheme(SimpleJWTScheme):
    """Our JWT authentication (simplejwt's, loading roles with the user) is Bearer JWT."""

    target_class = "accounts.authentication.JWTAuthentication"
