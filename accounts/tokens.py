"""API sign-ins (JWT): what their tokens carry, and when a token stops being good.

A sign-in at the token endpoint gives a refresh token (and an access token copied from
it) carrying, besides simplejwt's claims:

- `auth_time`: when the person signed in with their password (seconds since the epoch,
  with a fraction). Every refresh carries it over, so a sign-in ends `SIGN_IN_MAX_AGE`
  after it began however often it is refreshed; and a token whose sign-in began before
  the login's password last changed (`User.password_changed_at`) is refused, access and
  refresh alike: a new password ends every earlier sign-in.
- `otp`: whether that sign-in passed the second factor. A refresh asks
  `two_factor.missing_second_factor` again, so a token issued before the clinic required
  two-factor sign-in, or before its owner enrolled, mints no more tokens.

A token without `auth_time` (made outside the token endpoint, e.g. by simplejwt's
`AccessToken.for_user`) counts as signed in when it was issued, to the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from . import two_factor
from .models import User
from .services import SignInRefused

AUTH_TIME = "auth_time"
SECOND_FACTOR = "otp"


def tokens_for(user: User, *, second_factor: bool) -> RefreshToken:
    """A new sign-in's refresh token (`.access_token` is its access token)."""
    refresh = RefreshToken.for_user(user)
    refresh[AUTH_TIME] = timezone.now().timestamp()
    refresh[SECOND_FACTOR] = second_factor
    return refresh


def refusal(user: User, claims: Mapping[str, Any], *, refreshing: bool) -> SignInRefused | None:
    """Why the token with `claims` no longer speaks for `user`, or None if it still does.
    Asked of every access token (`authentication.JWTAuthentication`) and, with
    `refreshing`, of every refresh token before it is exchanged."""
    signed_in_at = claims.get(AUTH_TIME)
    now = timezone.now().timestamp()
    if signed_in_at is None:  # only simplejwt's own: its issue time, whole seconds
        signed_in_at = int(claims.get("iat", 0))
        changed = user.password_changed_at and int(user.password_changed_at.timestamp())
    else:
        signed_in_at = float(signed_in_at)
        changed = user.password_changed_at and user.password_changed_at.timestamp()
    if changed and signed_in_at < changed:
        return _expired("The password was changed since this sign-in: sign in again.")
    if now > signed_in_at + settings.SIGN_IN_MAX_AGE.total_seconds():
        return _expired("This sign-in has lasted as long as a sign-in may: sign in again.")
    verified = bool(claims.get(SECOND_FACTOR, False))
    if refreshing and two_factor.missing_second_factor(user, verified=verified):
        return SignInRefused(
            "two_factor_required",
            "Two-factor sign-in is required of this login: sign in again with the code "
            "(set it up in the admin first if need be).",
        )
    return None


def _expired(detail: str) -> SignInRefused:
    return SignInRefused("token_not_valid", detail)
