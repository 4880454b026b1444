"""Idempotency-Key for booking: the same key and body give the first answer, once."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction

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
    Reusing a key for a different request is refused.
    """
    fingerprint = hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str).encode()
    ).hexdigest()
    with transaction.atomic():
        request, created = BookingRequest.objects.get_or_create(
            user=user, key=key, defaults={"fingerprint": fingerprint}
        )
        if not created:
            if request.fingerprint != fingerprint:
                raise DomainError(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                    fields={"Idempotency-Key": ["Use a new key for a new request."]},
                )
            return (request.response_status, request.response_body), True
        try:
            with transaction.atomic():
                outcome = book()
        except DomainError as refusal:
            outcome = (refusal.status_code, refusal.as_dict())
        request.response_status, request.response_body = outcome
        request.save(update_fields=["response_status", "response_body"])
    return outcome, False
