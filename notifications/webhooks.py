"""The providers' callbacks: `/webhooks/...` (wired in `clinic/urls.py`).

- `sms/<provider>/status/`: how an SMS went (Twilio's StatusCallback).
- `sms/<provider>/replies/`: a patient's SMS (Twilio's "A message comes in" webhook).
- `email/<esp>/tracking/`: the email service's events, by django-anymail's own views.

Plain Django views: the providers post forms or their own JSON, not the API's. Each is
believed only once signed: Twilio's X-Twilio-Signature over the URL and the form, the
email service's basic-auth secret (ANYMAIL_WEBHOOK_SECRET, plus the service's own
signature where it has one). Anything else is 403 and changes nothing; a field missing is
400 naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kernel.errors import DomainError, error_body

from . import callbacks
from .providers import SMS_PROVIDERS, SmsProvider

NOT_SIGNED = error_body("not_signed", "The callback's signature is missing or does not match.")


def _signed_by_provider(view: Callable[[HttpRequest, SmsProvider], HttpResponse]):
    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request: HttpRequest, provider: str) -> HttpResponse:
        if provider not in SMS_PROVIDERS:
            raise Http404
        sms = SMS_PROVIDERS[provider]()
        if not sms.is_signed(request):
            return JsonResponse(NOT_SIGNED, status=403)
        try:
            return view(request, sms)
        except DomainError as refusal:
            return JsonResponse(refusal.as_dict(), status=refusal.status_code)

    return checked


@_signed_by_provider
def sms_status(request: HttpRequest, sms: SmsProvider) -> HttpResponse:
    callbacks.record_delivery(sms.status_report(request))
    return HttpResponse(status=204)


@_signed_by_provider
def sms_reply(request: HttpRequest, sms: SmsProvider) -> HttpResponse:
    reply, new = callbacks.take_reply(sms.incoming(request))
    # A repeat is answered with nothing: the patient got the answer the first time.
    return sms.answer(reply.answer if new else "")


def _refusing_unsigned(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """anymail's view, refusing with 403 what it lets through or refuses with 400: without a
    secret configured it takes any caller (with a warning), and a bad one it answers as a
    suspicious request."""

    @csrf_exempt
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not get_anymail_setting("webhook_secret", default=None):
            return JsonResponse(NOT_SIGNED, status=403)
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            return JsonResponse(NOT_SIGNED, status=403)

    return checked


urlpatterns = [
    path("sms/<str:provider>/status/", sms_status, name="sms-status"),
    path("sms/<str:provider>/replies/", sms_reply, name="sms-reply"),
    *(
        path(f"email/{pattern.pattern}", _refusing_unsigned(pattern.callback), name=pattern.name)
        for pattern in anymail_urls.urlpatterns
        if pattern.name.endswith("_tracking_webhook")
    ),
]
