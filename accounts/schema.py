"""The OpenAPI schema's name for the API's session cookie (drf-spectacular knows DRF's
own session authentication, not a subclass of it)."""

from drf_spectacular.authentication import SessionScheme


class SecondFactorSessionScheme(SessionScheme):
    target_class = "accounts.authentication.SessionAuthentication"
