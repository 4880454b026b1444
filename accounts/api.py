"""Sign-in: JWT access and refresh tokens for patients and staff alike; and the links an
account is sent by email (verify an address, reset a password)."""

import hashlib
from collections.abc import Callable, Mapping

from django.contrib.auth.models import update_last_login
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework_simplejwt import views as jwt
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from kernel.rest import RefusesUnknownFields, Serializer, error_response

from . import lifecycle, tokens
from .emails import normalize_email
from .models import User
from .serializers import NormalizedEmailField
from .services import WRONG_CREDENTIALS, SignInRefused, sign_in_for_tokens
from .signals import signed_in_for_tokens

BAD_CREDENTIALS = error_response(
    "Wrong email, password or two-factor code, or an inactive account.",
    ("no_active_account", WRONG_CREDENTIALS),
    ("token_not_valid", "Token is invalid"),
)
BAD_TOKEN = error_response(
    "The refresh token is invalid, expired, or was already used (each one is good once); "
    "or its sign-in has ended: it is older than the account's password, or than a sign-in "
    "may last (`SIGN_IN_HOURS`), or the account is no longer active. Sign in again.",
    ("token_not_valid", "Token is blacklisted"),
    ("token_not_valid", "The password was changed since this sign-in: sign in again."),
)
REFRESH_TWO_FACTOR_REQUIRED = error_response(
    "The sign-in did not pass the second factor this login now needs (the clinic has since "
    "required it of staff, or the login has since set it up): sign in again with the code.",
    (
        "two_factor_required",
        "Two-factor sign-in is required of this login: sign in again with the code "
        "(set it up in the admin first if need be).",
    ),
)
TWO_FACTOR_REQUIRED = error_response(
    "The clinic requires two-factor sign-in for staff, and this member of staff has not "
    "set it up yet (they can, in the admin).",
    (
        "two_factor_required",
        "The clinic requires two-factor sign-in for staff: set it up in the admin first.",
    ),
)
LOCKED_OUT = error_response(
    "Too many failed sign-ins for this account: it is refused, whatever the password, "
    "until the lockout ends; `Retry-After` gives the seconds. (429 without this code is "
    "the per-address throttle.)",
    (
        "locked_out",
        "Too many failed sign-ins: this account is locked. Try again in 15 minutes.",
    ),
    ("throttled", "Request was throttled. Expected available in 42 seconds."),
)


class LockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self, detail: str, wait: int):
        super().__init__(detail)
        self.wait = wait  # DRF's exception handler turns it into Retry-After


class SignInSerializer(RefusesUnknownFields, TokenObtainPairSerializer):
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        write_only=True,
        help_text="The authenticator app's current code; needed once the user has set up "
        "two-factor sign-in.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # No longer than a login can be: the lockout's counter stores what was typed, and a
        # longer one would not fit it (a 500 instead of a 400).
        self.fields[self.username_field] = serializers.CharField(
            write_only=True, max_length=User._meta.get_field("email").max_length
        )

    def validate(self, attrs: dict) -> dict:
        try:
            self.user = sign_in_for_tokens(
                self.context["request"]._request,
                email=attrs[self.username_field],
                password=attrs["password"],
                code=attrs.get("code", ""),
            )
        except SignInRefused as refusal:
            raise _api_error(refusal) from refusal
        refresh = tokens.tokens_for(self.user, second_factor=self.user.otp_device is not None)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class RefreshSerializer(RefusesUnknownFields, TokenRefreshSerializer):
    """simplejwt's refresh (good once, rotated), for a sign-in that has not ended:
    `tokens.refusal` with `refreshing`, and the sign-in's claims carried over."""

    def validate(self, attrs: dict) -> dict:
        try:
            refresh = RefreshToken(attrs["refresh"])
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        user = User.objects.filter(pk=refresh.payload.get(jwt_settings.USER_ID_CLAIM)).first()
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(
                "No active account found for the given token.", code="token_not_valid"
            )
        refused = tokens.refusal(user, refresh.payload, refreshing=True)
        if refused is not None:
            raise _api_error(refused)
        return super().validate(attrs)


class TokensSerializer(Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Good once, at `/api/v1/auth/token/refresh/`.")


def _api_error(refusal: SignInRefused) -> exceptions.APIException:
    if refusal.code == "locked_out":
        return LockedOut(refusal.detail, wait=refusal.retry_after or 1)
    if refusal.code == "two_factor_required":
        return exceptions.PermissionDenied(refusal.detail, code=refusal.code)
    if refusal.code == "token_not_valid":
        return InvalidToken(refusal.detail)
    return exceptions.AuthenticationFailed(refusal.detail, code=refusal.code)


@extend_schema_view(
    post=extend_schema(
        summary="Sign in",
        description="`email` and `password` (and `code`, once the user has set up two-factor "
        "sign-in) give an `access` token (send it as `Authorization: Bearer <access>`) and a "
        "`refresh` token. After repeated failures the account is locked for a while "
        "(429 `locked_out`).",
        tags=["auth"],
        responses={
            200: TokensSerializer,
            401: BAD_CREDENTIALS,
            403: TWO_FACTOR_REQUIRED,
            429: LOCKED_OUT,
        },
    )
)
class TokenView(jwt.TokenObtainPairView):
    serializer_class = SignInSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def post(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Handing out tokens fires no user_logged_in: the audit log hears of it here.
        signed_in_for_tokens.send(sender=User, request=request, user=serializer.user)
        return Response(serializer.validated_data)


@extend_schema_view(
    post=extend_schema(
        summary="Refresh the access token",
        description="A `refresh` token gives a new `access` token and a new `refresh` token; "
        "the one sent is used up. A sign-in lasts `SIGN_IN_HOURS` (12) from the password, "
        "however often it is refreshed, and ends when the password changes.",
        tags=["auth"],
        responses={
            200: TokensSerializer,
            401: BAD_TOKEN,
            403: REFRESH_TWO_FACTOR_REQUIRED,
        },
    )
)
class TokenRefreshView(jwt.TokenRefreshView):
    serializer_class = RefreshSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


# The account lifecycle: links sent by email (`accounts.lifecycle`, `accounts.links`).


class AddressThrottle(SimpleRateThrottle):
    """Per address asked about (`THROTTLE_ACCOUNT_EMAIL`), whoever asks and whether or not
    the address has an account, so that the answer (429 or not) tells nothing either; on
    top of the per-client `auth` throttle."""

    scope = "account_email"

    def get_cache_key(self, request: Request, view) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, Mapping) else None
        if not isinstance(email, str) or not email.strip():
            return None  # the serializer refuses it
        digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class DetailSerializer(Serializer):
    detail = serializers.CharField()


class TokenSerializer(Serializer):
    token = serializers.CharField(max_length=500, help_text="The `token` of the emailed link.")


class EmailSerializer(Serializer):
    email = NormalizedEmailField()


class NewPasswordSerializer(TokenSerializer):
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )


INVALID_TOKEN = error_response(
    "The link's token is not valid: forged, expired, or already used (each link works "
    "once). Ask for a new link.",
    ("invalid_token", lifecycle.INVALID_TOKEN),
)
EMAIL_TAKEN = error_response(
    "The new address of a change was taken by another account since it was asked for.",
    ("email_taken", "Another account uses this address now."),
)
EMAIL_VERIFIED = "Thank you: your email address is confirmed."
LINK_SENT = (
    "If this address has an account that needs it, a link is on its way; it works for a "
    "limited time. Check your inbox (and spam folder)."
)
PASSWORD_RESET = "Your password is changed: sign in with it. Earlier sign-ins have ended."


class _LifecycleView(GenericAPIView):
    """Open to anyone (the link or the address is what counts), throttled per client."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


@extend_schema(
    summary="Confirm an email address",
    description="The `token` of the link in a verification email "
    "(`{SITE_URL}/#/verify-email?token=...`): the one sent on registration or asked for "
    "again, which confirms the account's address (a patient can book from then on), or the "
    "one sent to a new address (`POST /api/v1/patients/me/email/`), which makes it the "
    "account's address, confirmed. A patient record reception already keeps for the "
    "confirmed address, with no login of its own, becomes the account's record. Each link "
    "works once, for `EMAIL_VERIFICATION_HOURS` (48).",
    tags=["auth"],
    request=TokenSerializer,
    responses={200: DetailSerializer, 400: INVALID_TOKEN, 409: EMAIL_TAKEN},
)
class VerifyEmailView(_LifecycleView):
    serializer_class = TokenSerializer

    def post(self, request: Request) -> Response:
        body = TokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lifecycle.verify_email(token=body.validated_data["token"], request=request)
        return Response({"detail": EMAIL_VERIFIED})


class _AskForALinkView(_LifecycleView):
    """Asks for a link to be emailed to an address: 202 whatever the address, limited per
    client and per address asked about."""

    serializer_class = EmailSerializer
    throttle_classes = [ScopedRateThrottle, AddressThrottle]
    ask: Callable[..., None]  # the lifecycle's rule, given `email`

    def post(self, request: Request) -> Response:
        body = EmailSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.ask(email=body.validated_data["email"])
        return Response({"detail": LINK_SENT}, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    summary="Send the verification link again",
    description="Sends a new verification link to the address if it has an account whose "
    "address is not confirmed yet. The answer is the same (202) whatever the address, so "
    "that nobody can find out which addresses have accounts. Limited per client and per "
    "address (`THROTTLE_ACCOUNT_EMAIL`, 5 an hour): 429.",
    tags=["auth"],
    request=EmailSerializer,
    responses={202: DetailSerializer},
)
class ResendVerificationView(_AskForALinkView):
    ask = staticmethod(lifecycle.ask_for_verification_email)


@extend_schema(
    summary="Ask for a password reset link",
    description="Emails a link (`{SITE_URL}/#/reset-password?token=...`) to the account "
    "with this address, if there is one. The answer is the same (202) whatever the "
    "address. The link works once, for `PASSWORD_RESET_MINUTES` (60), and no longer once "
    "the account signs in. Limited per client and per address (429).",
    tags=["auth"],
    request=EmailSerializer,
    responses={202: DetailSerializer},
)
class PasswordResetView(_AskForALinkView):
    ask = staticmethod(lifecycle.ask_password_reset)


@extend_schema(
    summary="Choose a new password with a reset link",
    description="`token` from the reset link and the new `password` (the same rules as "
    "registration: a weak one is 400 naming `password`). Every earlier sign-in ends, and a "
    "lockout of the account too; sign in with the new password.",
    tags=["auth"],
    request=NewPasswordSerializer,
    responses={200: DetailSerializer, 400: INVALID_TOKEN},
)
class PasswordResetConfirmView(_LifecycleView):
    serializer_class = NewPasswordSerializer

    def post(self, request: Request) -> Response:
        body = NewPasswordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lifecycle.reset_password(
            token=body.validated_data["token"],
            password=body.validated_data["password"],
            request=request,
        )
        return Response({"detail": PASSWORD_RESET})
