"""The project's admin site: the clinic's titles, and autocomplete results that tell
apart people who share a name."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


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

    def autocomplete_view(self, request):
        return ClinicAutocompleteJsonView.as_view(admin_site=self)(request)


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin.ClinicAdminSite"
