"""The admin's sign-in form (password and, once enrolled, the two-factor code) and the
form that confirms a new two-factor device."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from .services import SignInRefused, sign_in

CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 10}
)


class AdminLoginForm(AdminAuthenticationForm):
    """Django's admin login, through `accounts.services.sign_in`: counted towards the
    lockout, audited, and with the two-factor code of those who have enrolled."""

    otp_token = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=20,
        widget=CODE_WIDGET,
        help_text="From your authenticator app, if you have set up two-factor sign-in.",
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct email address and password, and the "
        "two-factor code if you have set it up. Note that both fields may be case-sensitive.",
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            try:
                self.user_cache = sign_in(
                    self.request,
                    email=email,
                    password=password,
                    code=self.cleaned_data.get("otp_token", ""),
                )
            except SignInRefused as refusal:
                if refusal.code == "locked_out":
                    raise forms.ValidationError(refusal.detail, code="locked_out") from None
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ConfirmDeviceForm(forms.Form):
    code = forms.CharField(
        label="Code shown by the app",
        max_length=20,
        widget=CODE_WIDGET,
    )
