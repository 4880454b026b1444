"""The project's admin site: the clinic's titles, autocomplete results that tell apart
people who share a name, and sign-in with the lockout and two-factor codes of
`accounts.services` and `accounts.two_factor`."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.shortcuts import redirect
from django.urls import path

# This module is imported while apps load (for ClinicAdminConfig), before models may be:
# what uses models is imported where it is used.

# What a member of staff who must enrol first may still open.
_OPEN_BEFORE_ENROLMENT = {"two_factor", "logout"}


class ClinicAutocompleteJsonView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        # Two patients may share a name; reception picks by date of birth too.
        if label := getattr(obj, "search_label", None):
            result["text"] = label
        return result


class ClinicAdminSite(admin.AdminSite):
    site_header = "Clinic"
    site_title = "Clinic admin"
    index_title = "Front desk and clinic set-up"
    login_template = "admin/accounts/login.html"
    index_template = "admin/accounts/index.html"
    # "View site": the clinic's website is a separate front end, and this service has no
    # page at "/"; what it does serve to browse is the API's documentation.
    site_url = "/api/docs/"

    @property
    def login_form(self):
        from accounts.forms import AdminLoginForm

        return AdminLoginForm

    def autocomplete_view(self, request):
        return ClinicAutocompleteJsonView.as_view(admin_site=self)(request)

    def has_permission(self, request):
        """Staff, and — once they have enrolled — signed in with their two-factor code in
        this session (a device added since they signed in asks them to sign in again)."""
        from accounts import two_factor

        return (
            super().has_permission(request)
            and two_factor.session_missing_second_factor(request) is not two_factor.Missing.CODE
        )

    def admin_view(self, view, cacheable=False):
        """Every admin page, except enrolment itself, sends a member of staff whom the
        clinic requires to use two-factor sign-in, and who has not, to enrol first."""
        from accounts import two_factor

        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def enrolled_first(request, *args, **kwargs):
            if (
                getattr(request.resolver_match, "url_name", None) not in _OPEN_BEFORE_ENROLMENT
                and self.has_permission(request)
                and two_factor.session_missing_second_factor(request)
                is two_factor.Missing.ENROLMENT
            ):
                return redirect("admin:two_factor")
            return guarded(request, *args, **kwargs)

        return enrolled_first

    def get_urls(self):
        from accounts.admin_views import two_factor_enrolment

        enrolment = self.admin_view(lambda request: two_factor_enrolment(request, self))
        return [path("two-factor/", enrolment, name="two_factor"), *super().get_urls()]

    def index(self, request, extra_context=None):
        from accounts import two_factor

        extra_context = {
            "two_factor_enrolled": two_factor.device_of(request.user) is not None,
            **(extra_context or {}),
        }
        return super().index(request, extra_context)


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin.ClinicAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib.admin import FieldListFilter
        from django.db import models

        from kernel.admin_query import CalendarDateFieldListFilter, ForgivingQueryAdmin

        # Every date filter of every admin, the packages' too (axes, django-otp).
        FieldListFilter.register(
            lambda field: isinstance(field, models.DateField),
            CalendarDateFieldListFilter,
            take_priority=True,
        )
        # And every date hierarchy: the packages' admins (axes) are registered again with
        # the calendar-bound changelist ours declare.
        site = admin.site
        for model, model_admin in list(site._registry.items()):
            if model_admin.date_hierarchy and not isinstance(model_admin, ForgivingQueryAdmin):
                kind = type(model_admin)
                site.unregister(model)
                site.register(model, type(kind.__name__, (ForgivingQueryAdmin, kind), {}))
