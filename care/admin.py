"""Care relationships in the admin: reception and managers put patients in a practitioner's
care (`CareAssignment`) and end assignments; managers review every "break the glass"
(`BreakGlassAccess`). Both go through `services`; who sees what is `selectors`.

The pages are allowed by role, not by model permissions: the staff groups' permissions are
the accounts app's (`accounts.permissions`), and these two are the clinic's roles exactly
(front desk; manager).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role, is_front_desk, roles_of
from audit.mixins import AuditedAdmin
from kernel.errors import DomainError
from patients.models import BreakGlassAccess, CareAssignment
from practice.models import Practitioner

from .selectors import patients_for
from .services import assign_care, end_care_assignment


class AssignCareForm(forms.Form):
    patient = forms.ModelChoiceField(
        queryset=None,
        widget=AutocompleteSelect(CareAssignment._meta.get_field("patient"), admin.site),
    )
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients_for(user)

    def refuse(self, refusal: DomainError) -> None:
        self.add_error(None, refusal.detail)


class OpenFilter(admin.SimpleListFilter):
    title = "assignment"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Ended")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


@admin.register(CareAssignment)
class CareAssignmentAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["patient", "practitioner", "assigned_by", "assigned_at", "ended_at"]
    list_filter = [OpenFilter, "practitioner"]
    list_select_related = ["patient", "practitioner__user", "assigned_by"]
    search_fields = ["patient__last_name", "patient__first_name"]
    readonly_fields = [
        "patient",
        "practitioner",
        "assigned_by",
        "assigned_at",
        "ended_at",
        "ended_by",
    ]
    actions = ["end_selected"]

    def get_queryset(self, request):
        # The assignments of the patients the user may see (reception: not archived ones).
        return super().get_queryset(request).filter(patient__in=patients_for(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return is_front_desk(request.user)

    def has_add_permission(self, request) -> bool:
        return is_front_desk(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # an assignment is ended (the action), never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # who was in whose care is kept

    def has_end_permission(self, request) -> bool:
        return is_front_desk(request.user)

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AssignCareForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                assignment = assign_care(
                    patient=form.cleaned_data["patient"],
                    practitioner=form.cleaned_data["practitioner"],
                    by=request.user,
                    request=request,
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                messages.success(request, f"{assignment}.")
                return HttpResponseRedirect(reverse("admin:patients_careassignment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Put a patient in a practitioner's care",
            "intro": [
                "The practitioner reads the patient's clinical records while the assignment "
                "is open. A booking with them that the patient or reception made does the "
                "same; one the practitioner made themselves does not."
            ],
            "form": form,
            "submit": "Assign",
            "submit_name": "assign",
            "back_url": reverse("admin:patients_careassignment_changelist"),
        }
        return TemplateResponse(request, "admin/clinic/form_page.html", context)

    @admin.action(description="End the selected assignments", permissions=["end"])
    def end_selected(self, request, queryset):
        ended = 0
        for assignment in queryset.filter(ended_at__isnull=True):
            end_care_assignment(assignment=assignment, by=request.user, request=request)
            ended += 1
        messages.success(request, f"{ended} assignment(s) ended.")


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(AuditedAdmin, admin.ModelAdmin):
    """The manager's review of every "break the glass": who, for whom, why, until when."""

    list_display = ["granted_at", "practitioner", "patient", "reason", "expires_at", "still_open"]
    list_filter = ["practitioner", "granted_at"]
    list_select_related = ["patient", "practitioner__user"]
    search_fields = ["patient__last_name", "patient__first_name", "reason"]
    date_hierarchy = "granted_at"
    readonly_fields = ["patient", "practitioner", "reason", "granted_at", "expires_at"]

    def has_view_permission(self, request, obj=None) -> bool:
        return Role.MANAGER in roles_of(request.user)

    def has_add_permission(self, request) -> bool:
        return False  # practitioners break the glass on the patient's page or the API

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description="still open")
    def still_open(self, access: BreakGlassAccess) -> bool:
        return access.expires_at > timezone.now()
