"""Stand-ins for Twilio's and Postmark's sending APIs on 127.0.0.1, so the real client
libraries (`twilio`, django-anymail) are exercised over real HTTP without the internet;
and the providers' callbacks, signed as they sign them."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from django.conf import settings
from django.test import override_settings
from twilio.request_validator import RequestValidator


@dataclass
class Sent:
    path: str
    form: dict[str, str]
    json: dict


@dataclass
class FakeProviders:
    """Answers Twilio's Messages.json and Postmark's /email; `refuse` makes the next
    answers an error of the given status and body."""

    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    refusal: tuple[int, dict] | None = None

    def refuse(self, status: int, body: dict) -> None:
        self.refusal = (status, body)

    def answer(self, path: str, raw: bytes) -> tuple[int, dict]:
        if path.startswith("/postmark/"):
            message = json.loads(raw)
            self.sent.append(Sent(path, {}, message))
            if self.refusal:
                return self.refusal
            return 200, {
                "To": message["To"],
                "SubmittedAt": "2027-03-22T08:00:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        self.sent.append(Sent(path, form, {}))
        if self.refusal:
            return self.refusal
        return 201, {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "queued",
            "to": form["To"],
            "body": form["Body"],
        }


@pytest.fixture
def fake_providers() -> Iterator[FakeProviders]:
    fake = FakeProviders()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, body = fake.answer(self.path, raw)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def live_providers(fake_providers: FakeProviders) -> Iterator[FakeProviders]:
    """Messages leave through Twilio and Postmark (anymail), both answered by the fake."""
    with override_settings(
        NOTIFICATIONS_DELIVERY="live",
        SMS_BACKEND="twilio",
        SMS_FROM="+61400000000",
        TWILIO_API_URL=fake_providers.url,
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL={
            **settings.ANYMAIL,
            "POSTMARK_SERVER_TOKEN": "test-postmark-token",
            "POSTMARK_API_URL": f"{fake_providers.url}/postmark/",
        },
    ):
        yield fake_providers


def twilio_callback(client, path: str, params: dict, *, token: str | None = None, url=None):
    """POST `params` to `path` as Twilio does, signed with the auth token (`token`: another
    one, to forge; `url`: the address the signature was made for, if not this one)."""
    signed_for = url or f"{settings.WEBHOOK_BASE_URL}{path}"
    signature = RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(
        signed_for, params
    )
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def postmark_callback(client, event: dict, *, secret: str | None = None):
    """POST a Postmark webhook event with the basic-auth secret anymail checks."""
    secret = secret or settings.ANYMAIL["WEBHOOK_SECRET"]
    return client.post(
        "/webhooks/email/postmark/tracking/",
        json.dumps(event),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(secret.encode()).decode(),
    )
