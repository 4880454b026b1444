from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import SecurityPolicy, User
from .privileges import (
    PRIVILEGE_FIELDS,
    may_change_account,
    may_change_sign_in_of,
    may_grant_privileges,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Logins, under the rules of `accounts.privileges`: only a superuser sees the
    privilege fields as editable or opens another login's password form; a login that
    holds as much as the viewer, or more, is shown read-only."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is None or may_grant_privileges(request.user):
            return readonly  # the add form has no privilege fields to begin with
        # Read-only fields are left out of the form: a POST that carries them anyway
        # changes nothing.
        return (*readonly, *PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_account(request.user, obj))

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        if target is not None and not may_change_sign_in_of(request.user, target):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


# django-otp registers its own device admin unless this one is there first.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(OtpTOTPDeviceAdmin):
    """Two-factor devices: a manager sees who has enrolled; only a device's owner or a
    superuser may change or remove it (`may_change_sign_in_of`), and only a superuser
    adds one here (everyone else enrols on their own, at /admin/two-factor/)."""

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and may_grant_privileges(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_sign_in_of(request.user, obj.user))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_sign_in_of(request.user, obj.user))


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "require_two_factor_for_staff"]

    def has_add_permission(self, request) -> bool:
        return not SecurityPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# django-axes registers its own admin for the lockout records. Its one action, "Clean up
# expired attempts", asks for no permission (anyone who may view the attempts was offered
# it) and needs what AxesMiddleware sets on the request, which this project does not use
# (its sign-in views answer for themselves): it answered 500. Expired attempts lock nobody,
# and a manager unlocks an account by deleting its attempt, so the action is not offered.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    actions = []  # the site's "delete selected" stays, for who may delete
