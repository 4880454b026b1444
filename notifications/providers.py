"""The SMS providers and the email services, in their own words and in ours.

An SMS provider sends a message and says what became of it (`StatusReport`), and hands on
the patients' replies (`IncomingSms`); its callbacks are believed only when signed. Twilio
is the one there is; another (MessageMedia, say) is a class with the same methods, named in
`SMS_PROVIDERS` and chosen by `SMS_BACKEND`. Email goes through django-anymail (the email
service chosen by `EMAIL_ESP`), whose tracking events `status_of_email_event` translates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from xml.sax.saxutils import escape

import requests
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from kernel.errors import DomainError

from .choices import ProviderStatus

if TYPE_CHECKING:
    from .models import Notification


class TransientDeliveryError(Exception):
    """Try again later (the provider is down, a timeout)."""


class PermanentDeliveryError(Exception):
    """Trying again will not help (no template, the provider refused the number).

    `undeliverable`: the address itself is dead (an invalid number, a landline), so nothing
    more is sent to it until it is changed."""

    def __init__(self, message: str, *, code: str = "", undeliverable: bool = False):
        super().__init__(message)
        self.code = code
        self.undeliverable = undeliverable


@dataclass(frozen=True)
class StatusReport:
    """A provider's word on one message it took."""

    provider_id: str
    status: ProviderStatus
    error_code: str = ""
    detail: str = ""
    # The address is dead (a hard bounce, a complaint, an unknown number): stop using it.
    undeliverable: bool = False


@dataclass(frozen=True)
class IncomingSms:
    provider_id: str
    sender: str
    body: str


class SmsProvider(Protocol):
    def send(self, notification: Notification) -> None:
        """Hand the message over; set its `provider_id` and `provider_status`."""

    def is_signed(self, request: HttpRequest) -> bool: ...

    def status_report(self, request: HttpRequest) -> StatusReport: ...

    def incoming(self, request: HttpRequest) -> IncomingSms: ...

    def answer(self, text: str) -> HttpResponse:
        """The webhook's answer to a reply: `text` back to its sender, if any."""


def webhook_url(name: str, provider: str) -> str:
    """The address a provider calls back on, as the provider sees it (and signs it)."""
    path = reverse(name, kwargs={"provider": provider})
    return f"{settings.WEBHOOK_BASE_URL.rstrip('/')}{path}"


def _required(request: HttpRequest, *names: str, max_length: int = 64) -> list[str]:
    """The callback's identifying fields (ids, numbers, statuses): present and short."""
    problems = {}
    for name in names:
        value = request.POST.get(name, "")
        if not value:
            problems[name] = ["This field is required."]
        elif len(value) > max_length or "\x00" in value:
            problems[name] = [f"Not valid: at most {max_length} characters."]
    if problems:
        raise DomainError("invalid", "Some fields are not valid.", fields=problems)
    return [request.POST[name] for name in names]


class TwilioSms:
    """Twilio's Messaging API (the `twilio` package), its status callbacks and its incoming
    message webhook, both signed with the account's auth token (X-Twilio-Signature)."""

    name = "twilio"
    STATUSES = {
        "accepted": ProviderStatus.QUEUED,
        "scheduled": ProviderStatus.QUEUED,
        "queued": ProviderStatus.QUEUED,
        "sending": ProviderStatus.QUEUED,
        "sent": ProviderStatus.SENT,
        "delivered": ProviderStatus.DELIVERED,
        "read": ProviderStatus.DELIVERED,
        "undelivered": ProviderStatus.UNDELIVERED,
        "failed": ProviderStatus.FAILED,
    }
    # Errors that say the number will never take an SMS: invalid 'To', not a mobile,
    # unknown handset, landline or unreachable carrier. (21610, opted out at Twilio, is not
    # one: a START there brings the number back, and our START the consent.)
    DEAD_NUMBER_ERRORS = frozenset({"21211", "21614", "30005", "30006"})

    def client(self) -> Client:
        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        if settings.TWILIO_API_URL:
            client.api.base_url = settings.TWILIO_API_URL
        return client

    def send(self, notification: Notification) -> None:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.SMS_FROM}
        )
        if settings.WEBHOOK_BASE_URL:  # else no status comes back (Twilio needs a full URL)
            sender["status_callback"] = webhook_url("sms-status", self.name)
        try:
            message = self.client().messages.create(
                to=notification.recipient, body=notification.body, **sender
            )
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                raise TransientDeliveryError(f"Twilio answered {error.status}") from error
            code = str(error.code or "")
            raise PermanentDeliveryError(
                f"Twilio refused: {code} {error.msg}",
                code=code,
                undeliverable=code in self.DEAD_NUMBER_ERRORS,
            ) from error
        except requests.RequestException as error:
            raise TransientDeliveryError(str(error)) from error
        notification.provider_id = message.sid
        notification.provider_status = self.STATUSES.get(message.status, ProviderStatus.QUEUED)

    def is_signed(self, request: HttpRequest) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not settings.TWILIO_AUTH_TOKEN:
            return False
        url = f"{settings.WEBHOOK_BASE_URL.rstrip('/')}{request.get_full_path()}"
        return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)

    def status_report(self, request: HttpRequest) -> StatusReport:
        sid, status = _required(request, "MessageSid", "MessageStatus")
        if status not in self.STATUSES:
            raise DomainError.invalid("MessageStatus", [f"Unknown status {status!r}."])
        code = request.POST.get("ErrorCode", "")
        if code and not (code.isdigit() and len(code) <= 10):
            raise DomainError.invalid("ErrorCode", ["A number, as Twilio's error codes are."])
        return StatusReport(
            provider_id=sid,
            status=self.STATUSES[status],
            error_code=code,
            detail=f"Twilio error {code}" if code else "",
            undeliverable=code in self.DEAD_NUMBER_ERRORS,
        )

    def incoming(self, request: HttpRequest) -> IncomingSms:
        sid, sender = _required(request, "MessageSid", "From", max_length=32)
        # PostgreSQL's text takes no NUL; no SMS carries one either.
        body = request.POST.get("Body", "").replace("\x00", "")
        return IncomingSms(provider_id=sid, sender=sender, body=body)

    def answer(self, text: str) -> HttpResponse:
        message = f"<Message>{escape(text)}</Message>" if text else ""
        return HttpResponse(
            f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>',
            content_type="text/xml",
        )


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {"twilio": TwilioSms}

# anymail's words for what became of an email, in ours; other events (opened, clicked,
# deferred) change nothing.
EMAIL_STATUSES = {
    EventType.QUEUED: ProviderStatus.QUEUED,
    EventType.SENT: ProviderStatus.SENT,
    EventType.DELIVERED: ProviderStatus.DELIVERED,
    EventType.BOUNCED: ProviderStatus.BOUNCED,
    EventType.COMPLAINED: ProviderStatus.COMPLAINED,
    EventType.REJECTED: ProviderStatus.FAILED,
    EventType.FAILED: ProviderStatus.FAILED,
}
# A refusal that says the address is dead, rather than this one message.
DEAD_ADDRESS_REASONS = frozenset({RejectReason.BOUNCED, RejectReason.INVALID, RejectReason.SPAM})


def status_of_email_event(event: AnymailTrackingEvent) -> StatusReport | None:
    """An email service's tracking event as a `StatusReport`, or None if it changes nothing.

    A hard bounce, and a complaint (the patient marked the clinic's mail as spam), stop
    email to the address. anymail reports most soft bounces as `deferred`, but Postmark's
    "SoftBounce" as `bounced`: that one is let through as a delay."""
    status = EMAIL_STATUSES.get(event.event_type)
    if status is None or not event.message_id:
        return None
    if isinstance(event.esp_event, dict) and event.esp_event.get("Type") == "SoftBounce":
        return None
    return StatusReport(
        provider_id=str(event.message_id),
        status=status,
        error_code=event.reject_reason or "",
        detail=event.description or event.mta_response or event.reject_reason or "",
        undeliverable=status in (ProviderStatus.BOUNCED, ProviderStatus.COMPLAINED)
        or (status == ProviderStatus.FAILED and event.reject_reason in DEAD_ADDRESS_REASONS),
    )
