"""The admin page where a member of staff sets up two-factor sign-in on their phone."""

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from . import two_factor
from .forms import ConfirmDeviceForm


@never_cache  # the page shows a secret
def two_factor_enrolment(request: HttpRequest, admin_site: AdminSite) -> HttpResponse:
    """GET: the QR code (and secret) of a new device. POST `code`: confirm it; POST
    `restart`: a new secret, for a phone that could not read the last one."""
    user = request.user
    form = ConfirmDeviceForm(request.POST if "code" in request.POST else None)
    if request.method == "POST" and "restart" in request.POST:
        two_factor.restart_enrolment(user)
        return redirect("admin:two_factor")
    if form.is_bound and form.is_valid():
        if two_factor.confirm_enrolment(request, code=form.cleaned_data["code"]):
            messages.success(request, "Two-factor sign-in is on: sign in with a code from now on.")
            return redirect("admin:index")
        form.add_error(
            "code",
            "That code is not right. Type the one the app shows now (it changes every "
            "30 seconds); if it is still refused, check the phone's clock is set automatically.",
        )
    enrolled = two_factor.device_of(user)
    setting_up = enrolled is None or request.GET.get("replace") or form.is_bound
    device = two_factor.pending_device(user) if setting_up else None
    context = {
        **admin_site.each_context(request),
        "title": "Two-factor sign-in",
        "enrolled": enrolled,
        "required": two_factor.required_for(user),
        "device": device,
        "qr_code": two_factor.qr_code_svg(device) if device else "",
        "secret": two_factor.secret_for_typing(device) if device else "",
        "otpauth_uri": two_factor.otpauth_uri(device) if device else "",
        "form": form,
        "replace_url": f"{reverse('admin:two_factor')}?replace=1",
    }
    return TemplateResponse(request, "admin/accounts/two_factor.html", context)
