from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import SecurityPolicy, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
