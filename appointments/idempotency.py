"""Idempotency-Key for booking: the same key and body give the first answer, once."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from kernel.errors import DomainError

from .models import BookingRequest

Outcome = tuple[int, dict[str, Any]]


def book_once(
    *, user: User, key: str, payload: dict[str, Any], book: Callable[[], Outcome]
) -> tuple[Outcome, bool]:
    """Run `book` once per (user, key); return its outcome and whether it is a replay.

    A second request with the key waits on the unique key until the first commits, then
    replays the stored answer (a refusal is replayed too: the retry asked the same thing).
    Reusing a key for a different request is refused. `book` is one transaction of its
    own (a booking service), so a refusal leaves nothing of it behind but the key.
    """
    fingerprint = hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str).encode()
    ).hexdigest()
    with transaction.atomic():
        request = _claim_key(user, key, fingerprint)
        if request is None:
            request = BookingRequest.objects.get(user=user, key=key)
            if request.fingerprint != fingerprint:
                raise DomainError(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                    fields={"Idempotency-Key": ["Use a new key for a new request."]},
                )
            return (request.response_status, request.response_body), True
        try:
            outcome = book()
        except DomainError as refusal:
            outcome = (refusal.status_code, refusal.as_dict())
        request.response_status, request.response_body = outcome
        request.save(update_fields=["response_status", "response_body"])
    return outcome, False


def _claim_key(user: User, key: str, fingerprint: str) -> BookingRequest | None:
    """The new request's row, or None when the key was taken (its first request committed:
    the insert waits for it). One statement, where `get_or_create` would take four."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BookingRequest._meta.db_table} (user_id, key, fingerprint, created_at) "
            "VALUES (%s, %s, %s, %s) "
            "ON CONFLICT ON CONSTRAINT booking_request_unique_key DO NOTHING RETURNING id",
            [user.pk, key, fingerprint, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return BookingRequest(id=row[0], user=user, key=key, fingerprint=fingerprint, created_at=now)
