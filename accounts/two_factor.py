"""Two-factor sign-in with an authenticator app (TOTP, django-otp).

Anyone may enrol; once enrolled, a sign-in needs the app's current code as well as the
password (the admin's login form and the token endpoint alike). A manager can require it of
all staff (`SecurityPolicy`): a member of staff without a device is then sent to enrol
before they can use the rest of the admin. Each login has at most one confirmed device:
enrolling a new phone replaces the old one once the new one's code has been confirmed.
"""

from __future__ import annotations

import re
from base64 import b32encode
from enum import StrEnum

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as mark_session_verified
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import SecurityPolicy, User
from .signals import second_factor_enrolled

DEVICE_NAME = "Authenticator app"


def device_of(user: User) -> TOTPDevice | None:
    """The user's confirmed device, if they have enrolled."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def passes_second_factor(user: User, code: str) -> bool:
    """True when the user has not enrolled, or `code` is their app's current code. A code
    is good once only, and a run of wrong codes slows the device down (django-otp).

    Sets `user.otp_device`, which django-otp's `user_logged_in` receiver stores in the
    session: the admin then knows this session passed the second factor."""
    device = device_of(user)
    user.otp_device = None
    if device is None:
        return True
    user.otp_device = verify_token(user, device.persistent_id, _digits(code))
    return user.otp_device is not None


def required_for(user: User) -> bool:
    return user.is_staff and SecurityPolicy.two_factor_required()


class Missing(StrEnum):
    """What a sign-in lacks of the second factor (`missing_second_factor`)."""

    CODE = "code"  # the login has a device, and this sign-in did not pass it
    ENROLMENT = "enrolment"  # the clinic requires staff to have one, and this login has none


def missing_second_factor(user: User, *, verified: bool) -> Missing | None:
    """The one rule of the second factor, for every door: the admin's session, the API's
    session cookie, the token endpoint and every refresh of its tokens. `verified` says
    whether this sign-in passed the second factor (the session's django-otp device, the
    token's claim). A login with a device must have passed it; a member of staff whom the
    policy requires to have one must have one. None when nothing is missing.

    The admin lets a login that lacks only ENROLMENT in to enrol; the API refuses both."""
    if device_of(user) is not None:
        return None if verified else Missing.CODE
    return Missing.ENROLMENT if required_for(user) else None


def enrolment_due(user: User) -> bool:
    """The clinic requires two-factor sign-in of this member of staff, who has not enrolled."""
    return missing_second_factor(user, verified=False) is Missing.ENROLMENT


def pending_device(user: User) -> TOTPDevice:
    """The device being enrolled (made on first asking): its secret is what the QR code
    shows, and it signs nobody in until `confirm_enrolment` accepts one of its codes."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def restart_enrolment(user: User) -> TOTPDevice:
    """A fresh secret, for a phone that could not read the last one."""
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    return pending_device(user)


def confirm_enrolment(request: HttpRequest, *, code: str) -> bool:
    """Confirm the request user's pending device with one of its codes. On success it
    replaces any earlier device, and this session counts as having passed the second
    factor. False when the code is wrong (or nothing is pending)."""
    user = request.user
    with transaction.atomic():
        pending = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
        if pending is None:
            return False
        device = verify_token(user, pending.persistent_id, _digits(code))
        if device is None:
            return False
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        second_factor_enrolled.send(sender=User, request=request, user=user)
    mark_session_verified(request, device)
    return True


def session_missing_second_factor(request: HttpRequest) -> Missing | None:
    """`missing_second_factor` of the session's sign-in (django-otp's middleware tells
    whether the session passed its device). Worked out once per request."""
    if not hasattr(request, "_clinic_second_factor_missing"):
        user = request.user
        request._clinic_second_factor_missing = missing_second_factor(
            user, verified=user.is_verified()
        )
    return request._clinic_second_factor_missing


def otpauth_uri(device: TOTPDevice) -> str:
    return device.config_url


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (pure Python; no image library)."""
    image = qrcode.make(otpauth_uri(device), image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def _digits(code: str) -> str:
    """Apps show codes as "123 456"; people type them with spaces or dashes."""
    return re.sub(r"[\s-]", "", code or "")
