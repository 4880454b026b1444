"""Sign-in: JWT access and refresh tokens for patients and staff alike."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt import views as jwt

from clinic.api_common import error_response

BAD_CREDENTIALS = error_response(
    "Wrong email or password, or an inactive account.",
    ("no_active_account", "No active account found with the given credentials"),
    ("token_not_valid", "Token is invalid"),
)


@extend_schema_view(
    post=extend_schema(
        summary="Sign in",
        description="`email` and `password` give an `access` token (send it as "
        "`Authorization: Bearer <access>`) and a `refresh` token.",
        tags=["auth"],
        responses={
            200: jwt.TokenObtainPairView.serializer_class,
            401: BAD_CREDENTIALS,
        },
    )
)
class TokenView(jwt.TokenObtainPairView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


@extend_schema_view(
    post=extend_schema(
        summary="Refresh the access token",
        tags=["auth"],
        responses={
            200: jwt.TokenRefreshView.serializer_class,
            401: BAD_CREDENTIALS,
        },
    )
)
class TokenRefreshView(jwt.TokenRefreshView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
