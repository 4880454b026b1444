"""Where a rendered message goes: the outbox table, email, or an SMS provider.

`NOTIFICATIONS_DELIVERY=outbox` (tests, demos) writes each message to `OutboxMessage` in the
transaction that marks it sent. `live` sends email through Django's email backend
(EMAIL_URL: SMTP in production, console in development) and SMS through `SMS_BACKEND`:
`console`, `file` (one JSON line per message in SMS_FILE_PATH), `twilio` (see
`providers.py`) or `http` (a JSON endpoint at SMS_HTTP_URL with SMS_HTTP_TOKEN). A backend
that learns the provider's id of the message sets it on the notification, which is saved
with it: the provider's callbacks name the message by it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import icalendar
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage

from patients.models import Channel

from .choices import Kind, ProviderStatus
from .models import Notification, OutboxMessage
from .providers import (
    SMS_PROVIDERS,
    PermanentDeliveryError,
    TransientDeliveryError,
)


class Backend(Protocol):
    def send(self, notification: Notification) -> None: ...


class OutboxBackend:
    def send(self, notification: Notification) -> None:
        OutboxMessage.objects.create(
            notification=notification,
            channel=notification.channel,
            recipient=notification.recipient,
            subject=notification.subject,
            body=notification.body,
            attachments=[name for name, _, _ in attachments_for(notification)],
        )


class EmailBackend:
    def send(self, notification: Notification) -> None:
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[notification.recipient],
            headers={"Message-ID": f"<notification-{notification.pk}@{settings.CLINIC_DOMAIN}>"},
        )
        for name, content, mimetype in attachments_for(notification):
            message.attach(name, content, mimetype)
        try:
            message.send()
        except OSError as error:  # SMTP down, refused connection, timeout
            raise TransientDeliveryError(str(error)) from error
        except AnymailRecipientsRefused as error:  # the service refuses the address itself
            raise PermanentDeliveryError(str(error), undeliverable=True) from error
        except AnymailAPIError as error:
            status = error.status_code  # None: the service did not answer
            if status is None or status == 429 or status >= 500:
                raise TransientDeliveryError(str(error)) from error
            raise PermanentDeliveryError(str(error)) from error
        # An email service (through anymail) names the message; SMTP does not.
        sent = getattr(message, "anymail_status", None)
        if sent is not None and sent.message_id:
            notification.provider_id = str(sent.message_id)
            notification.provider_status = ProviderStatus.QUEUED


class ConsoleSmsBackend:
    def send(self, notification: Notification) -> None:
        print(f"SMS to {notification.recipient}: {notification.body}", flush=True)


class FileSmsBackend:
    def send(self, notification: Notification) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {"to": notification.recipient, "body": notification.body, "ref": notification.pk}
        with path.open("a") as file:
            file.write(json.dumps(line) + "\n")


class HttpSmsBackend:
    """A provider's JSON API: POST {to, body, reference} with a bearer token. The
    reference (the notification id) lets the provider drop a repeat."""

    def send(self, notification: Notification) -> None:
        try:
            response = requests.post(
                settings.SMS_HTTP_URL,
                json={
                    "to": notification.recipient,
                    "body": notification.body,
                    "reference": str(notification.pk),
                },
                headers={"Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"},
                timeout=10,
            )
        except requests.RequestException as error:
            raise TransientDeliveryError(str(error)) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientDeliveryError(f"SMS provider answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(
                f"SMS provider refused: {response.status_code} {response.text[:200]}"
            )


SMS_BACKENDS = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "http": HttpSmsBackend,
    **SMS_PROVIDERS,
}


def backend_for(channel: str) -> Backend:
    if settings.NOTIFICATIONS_DELIVERY == "outbox":
        return OutboxBackend()
    if channel == Channel.EMAIL:
        return EmailBackend()
    return SMS_BACKENDS[settings.SMS_BACKEND]()


def attachments_for(notification: Notification) -> list[tuple[str, bytes, str]]:
    """A calendar entry with every booking confirmation sent by email."""
    appointment = notification.appointment
    if notification.kind != Kind.CONFIRMATION or notification.channel != Channel.EMAIL:
        return []
    if appointment is None:
        return []
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//bookings//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.CLINIC_DOMAIN}")
    event.add("summary", f"{appointment.service.name} with {appointment.practitioner}")
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("dtstamp", appointment.created_at)
    event.add("location", f"{appointment.location.name}, {appointment.location.address}")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -timedelta(hours=2))
    alarm.add("description", "Appointment in two hours")
    event.add_component(alarm)
    calendar.add_component(event)
    return [("appointment.ics", calendar.to_ical(), "text/calendar")]
