"""Patients in the admin: reception finds, adds and keeps patients current here all day.

Search is `patients.selectors.search_patients`, the API's own; who sees which patients is
`care.selectors.patients_for`; saving goes through `patients.services` (consent rules, when
consents last changed). Patients are never deleted (the database refuses): they are made
inactive, or a manager archives a closed record (`records.services.archive_patient`, with a
reason), which hides it from everyone else. Every page and list of patients, and every change,
is audited (`audit.mixins.AuditedAdmin`).

The patient's page also carries the red-flag marker of their intake (`open_red_flags`) for
everyone who may see the patient — reception only learns that there are red flags, the
reasons are clinical — and, for those who may read the patient's clinical records
(`treatments.selectors`: the practitioners who treat them, managers; never reception), a
chart of their pain and ODI scores over time with their plan's phases.

A practitioner who opens the page of a patient not in their care (`care.selectors.
patients_in_care_of`) is offered to break the glass (`care.services.break_glass`): a reason,
then the patient's records for a few hours, audited for the manager. Care assignments and
the managers' review of break-the-glass accesses are `care.admin`.
"""

from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.roles import Role, roles_of
from appointments.models import UPCOMING_STATUSES, Appointment
from appointments.selectors import appointments_for
from audit.mixins import AuditedAdmin
from care.selectors import is_in_care_of, patients_for, patients_open_to_break_glass_for
from care.services import BREAK_GLASS_MAX_REASON, break_glass
from kernel.admin_access import NoAccessAdmin
from kernel.errors import DomainError
from patients.models import Patient
from patients.selectors import possible_duplicates, search_patients
from patients.services import add_patient, contact_consent_problems, update_patient_profile
from treatments.charts import chart_of
from treatments.markers import red_flag_marker
from treatments.models import PlanStatus, RedFlag, Risk
from treatments.progress import progress_of
from treatments.selectors import (
    clinical_patients_for,
    has_open_red_flags,
    latest_risk_by_patient,
    rescreen_due_among,
)
from treatments.services import open_red_flags

from .services import archive_patient

UPCOMING_SHOWN = 50
PAST_SHOWN = 20
_IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth", "is_active")
_MODEL_FIELDS = frozenset(field.name for field in Patient._meta.fields)
_CONTACT_OF_CONSENT = {
    "consent_email": "email",
    "consent_sms": "mobile",
    "preferred_channel": "mobile",
}


class PatientAdminForm(forms.ModelForm):
    confirm_different_person = forms.BooleanField(
        required=False,
        label="This is a different person",
        help_text="Tick only after checking that the patient record(s) listed above, with the "
        "same name and date of birth, belong to someone else.",
        # Shown only when a record with the same name and date of birth exists.
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Patient
        fields = [  # the admin narrows these to the fieldsets' editable fields
            "first_name",
            "last_name",
            "date_of_birth",
            "is_active",
            "email",
            "mobile",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "user",
            "possible_duplicate_of",
        ]

    def clean(self):
        cleaned_data = super().clean()
        self._warn_of_duplicates(cleaned_data)
        self._check_consents(cleaned_data)
        return cleaned_data

    def _warn_of_duplicates(self, cleaned_data) -> None:
        """The same first and last name and date of birth as an active patient: most likely
        a second record of the same person. Saving it anyway needs a tick."""
        if self.instance.pk is not None and not set(_IDENTITY_FIELDS) & set(self.changed_data):
            return
        if not all(cleaned_data.get(name) for name in ("first_name", "last_name")):
            return
        if not cleaned_data.get("date_of_birth") or not cleaned_data.get("is_active", True):
            return
        duplicates = list(
            possible_duplicates(
                first_name=cleaned_data["first_name"],
                last_name=cleaned_data["last_name"],
                date_of_birth=cleaned_data["date_of_birth"],
                exclude_pk=self.instance.pk,
            )[:10]
        )
        if not duplicates:
            return
        confirm = self.fields["confirm_different_person"]
        confirm.widget = forms.CheckboxInput()
        if cleaned_data.get("confirm_different_person"):
            return
        listing = format_html_join(
            ", ",
            '<a href="{}" target="_blank">{} (born {}{})</a>',
            (
                (
                    reverse("admin:patients_patient_change", args=[other.pk]),
                    other.full_name,
                    f"{other.date_of_birth:%d/%m/%Y}",
                    _contact_of(other),
                )
                for other in duplicates
            ),
        )
        self.add_error(
            None,
            forms.ValidationError(
                format_html(
                    "A patient with this name and date of birth is already on file: {}. "
                    "Use that record, or tick “{}” if this is someone else.",
                    listing,
                    confirm.label,
                ),
                code="possible_duplicate",
            ),
        )

    def _check_consents(self, cleaned_data) -> None:
        """Consent to a channel needs a way to reach the patient on it (the service's rule;
        the database enforces it too): shown on the consent field, never a crash."""
        candidate = Patient(
            **{
                name: cleaned_data.get(name, getattr(self.instance, name))
                for name in ("email", "mobile", "consent_email", "consent_sms", "preferred_channel")
            }
        )
        unreadable = {name for name in ("email", "mobile") if name in self.errors}
        for field, problems in contact_consent_problems(candidate).items():
            if _CONTACT_OF_CONSENT[field] in unreadable or field in self.errors:
                continue  # the contact detail itself is wrong: that error says enough
            self.add_error(field if field in self.fields else None, problems)


def _contact_of(patient: Patient) -> str:
    contact = patient.email or (patient.mobile.as_national if patient.mobile else "")
    return f", {contact}" if contact else ""


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the record is closed, e.g. the patient moved interstate, or died.",
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        max_length=BREAK_GLASS_MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why you need this patient's records now; the clinic manager reviews it.",
    )


class ArchivedFilter(admin.SimpleListFilter):
    title = "record"
    parameter_name = "record"

    def lookups(self, request, model_admin):
        return [("current", "Current"), ("archived", "Archived")]

    def queryset(self, request, queryset):
        if self.value() in ("current", "archived"):
            return queryset.filter(archived_at__isnull=self.value() == "current")
        return queryset


@admin.register(Patient)
class PatientAdmin(AuditedAdmin, NoAccessAdmin, admin.ModelAdmin):
    form = PatientAdminForm
    list_display = [
        "name",
        "duplicate_flag",
        "red_flag",
        "date_of_birth",
        "mobile_number",
        "email",
        "next_appointment",
        "is_active",
    ]
    list_display_links = ["name"]
    list_filter = [
        "is_active",
        ArchivedFilter,
        ("possible_duplicate_of", admin.EmptyFieldListFilter),
        "consent_email",
        "consent_sms",
    ]
    # search_patients does the searching (see get_search_results); a non-empty list shows the
    # search box and lets other admins' autocomplete fields point at patients.
    search_fields = ["last_name"]
    search_help_text = (
        "Name, email, mobile (e.g. 0412 345 678) or date of birth (15/06/1985 or 1985-06-15); "
        "every word must match."
    )
    readonly_fields = [
        "created_at",
        "updated_at",
        "consents_updated_at",
        "archived_at",
        "archived_by",
        "archive_reason",
        "email_undeliverable",
        "mobile_undeliverable",
    ]
    raw_id_fields = ["user", "possible_duplicate_of"]
    list_per_page = 50
    actions = ["archive_selected"]

    def get_fieldsets(self, request, obj=None):
        return [
            (
                None,
                {
                    "fields": [
                        "first_name",
                        "last_name",
                        "date_of_birth",
                        "confirm_different_person",
                        "is_active",
                        # A registration flagged as probably this person (see the field's help).
                        *(
                            ["possible_duplicate_of"]
                            if obj and obj.possible_duplicate_of_id
                            else []
                        ),
                    ]
                },
            ),
            (
                "Contact and reminders",
                {
                    "fields": [
                        "email",
                        "mobile",
                        "preferred_channel",
                        "consent_email",
                        "consent_sms",
                        "consents_updated_at",
                        # What the email service or SMS provider said (a bounce, a dead number).
                        "email_undeliverable",
                        "mobile_undeliverable",
                    ]
                },
            ),
            ("Record", {"fields": ["user", "created_at", "updated_at"], "classes": ["collapse"]}),
            *(
                [("Archived", {"fields": ["archived_at", "archived_by", "archive_reason"]})]
                if obj is not None and obj.is_archived
                else []
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Logins are the patients' own (registration); only who manages accounts links them.
        if not request.user.has_perm("accounts.change_user"):
            readonly.append("user")
        if obj is not None and obj.is_archived:
            readonly.append("is_active")  # an archived record stays inactive
        return readonly

    def get_queryset(self, request):
        upcoming = Appointment.objects.filter(
            patient=OuterRef("pk"), status__in=UPCOMING_STATUSES, end__gt=timezone.now()
        ).order_by("start")
        # Who sees which patients is decided in one place, for the API and the admin alike.
        patients = patients_for(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            patients = patients.order_by(*ordering)
        return patients.annotate(
            next_appointment_start=Subquery(upcoming.values("start")[:1]),
            next_appointment_id=Subquery(upcoming.values("pk")[:1]),
            next_appointment_zone=Subquery(upcoming.values("location__time_zone")[:1]),
            open_red_flags=has_open_red_flags("pk"),
        )

    @admin.display(description="Duplicate?")
    def duplicate_flag(self, patient: Patient) -> str:
        """A registration reception should check (`Patient.possible_duplicate_of`)."""
        return "Probable duplicate" if patient.possible_duplicate_of_id else ""

    @admin.display(description="Red flags", ordering="-open_red_flags")
    def red_flag(self, patient: Patient) -> str:
        return red_flag_marker(patient.open_red_flags)

    def get_search_results(self, request, queryset, search_term):
        """The API's search: every word must match a name, the email, the mobile (typed
        with spaces or not) or the date of birth."""
        search_term = search_term.strip()
        if not search_term:
            return queryset, False
        return search_patients(queryset, search_term), False

    def get_list_filter(self, request):
        if self.has_archive_permission(request):
            return self.list_filter
        return [f for f in self.list_filter if f is not ArchivedFilter]  # sees no archived

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a patient's record is kept: make them inactive, or archive it

    def has_archive_permission(self, request) -> bool:
        return Role.MANAGER in roles_of(request.user)

    @admin.action(description="Archive the selected patients' records", permissions=["archive"])
    def archive_selected(self, request, queryset):
        """A page asking why, then `archive_patient` for each (refusals as messages)."""
        patients = list(queryset.order_by("last_name", "first_name", "pk"))
        confirmed = "archive" in request.POST
        form = ArchiveForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            archived = 0
            for patient in patients:
                try:
                    archive_patient(
                        patient=patient,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        request=request,
                    )
                except DomainError as refusal:
                    messages.error(request, f"{patient.search_label}: {refusal.detail}")
                else:
                    archived += 1
            if archived:
                messages.success(request, f"{archived} patient record(s) archived.")
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Archive patient records",
            "form": form,
            "patients": patients,
        }
        return TemplateResponse(request, "admin/patients/patient/archive.html", context)

    @admin.display(description="name", ordering="last_name")
    def name(self, patient: Patient) -> str:
        return f"{patient.last_name}, {patient.first_name}"

    @admin.display(description="mobile", ordering="mobile")
    def mobile_number(self, patient: Patient) -> str:
        return patient.mobile.as_national if patient.mobile else ""

    @admin.display(description="next appointment", ordering="next_appointment_start")
    def next_appointment(self, patient: Patient) -> str:
        if patient.next_appointment_start is None:
            return "—"
        zone = timezone.get_current_timezone()
        if patient.next_appointment_zone:
            zone = ZoneInfo(patient.next_appointment_zone)
        when = patient.next_appointment_start.astimezone(zone)
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:appointments_appointment_change", args=[patient.next_appointment_id]),
            f"{when:%a %d/%m/%Y %H:%M}",
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/break-glass/",
                self.admin_site.admin_view(self.break_glass_view),
                name="patients_patient_break_glass",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self._offers_break_glass(request, object_id):
            return HttpResponseRedirect(
                reverse("admin:patients_patient_break_glass", args=[object_id])
            )
        extra_context = {**(extra_context or {}), **self._appointments_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _offers_break_glass(self, request, object_id) -> bool:
        """A practitioner asking for a patient they may not see, but may break the glass for."""
        pk = _as_pk(object_id)
        if pk is None or Role.PRACTITIONER not in roles_of(request.user):
            return False
        if self.get_queryset(request).filter(pk=pk).exists():
            return False
        return patients_open_to_break_glass_for(request.user).filter(pk=pk).exists()

    def break_glass_view(self, request, object_id):
        """Break the glass for one patient: the reason, then their page."""
        if Role.PRACTITIONER not in roles_of(request.user):
            raise PermissionDenied
        pk = _as_pk(object_id)
        patient = patients_open_to_break_glass_for(request.user).filter(pk=pk).first()
        if pk is None or patient is None:
            raise Http404("No such patient.")
        change_url = reverse("admin:patients_patient_change", args=[patient.pk])
        if is_in_care_of(request.user.practitioner, patient):
            return HttpResponseRedirect(change_url)
        form = BreakGlassForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                access = break_glass(
                    patient=patient,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except DomainError as refusal:
                field = "reason" if "reason" in (refusal.fields or {}) else None
                form.add_error(field, refusal.detail)
            else:
                until = timezone.localtime(access.expires_at)
                messages.warning(
                    request,
                    f"You broke the glass for {patient.full_name}: their records are open to "
                    f"you until {until:%H:%M on %d/%m/%Y}. The clinic manager reviews this.",
                )
                return HttpResponseRedirect(change_url)
        # The page names nobody: any practitioner may open it for any patient's id, and
        # a name and date of birth read here would be read without the audited reason.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Break the glass: patient record {patient.pk}",
            "intro": [
                "This patient is not in your care: no booking with you made by the "
                "patient or reception, and no assignment to you.",
                "If you need their records now, say why. They open to you for "
                f"{settings.BREAK_GLASS_HOURS} hours; this is written to the audit log and the "
                "clinic manager reviews it.",
            ],
            "form": form,
            "submit": "Break the glass",
            "submit_name": "break_glass",
            "back_url": reverse("admin:patients_patient_changelist"),
        }
        return TemplateResponse(request, "admin/clinic/form_page.html", context)

    def _appointments_context(self, request, object_id) -> dict:
        """The patient's upcoming appointments, then the past (and cancelled) ones, newest
        first: two queries whatever the patient's history."""
        try:
            patient_pk = int(object_id)
        except (TypeError, ValueError):
            return {}
        now = timezone.now()
        theirs = appointments_for(request.user).filter(patient_id=patient_pk)
        upcoming = theirs.filter(status__in=UPCOMING_STATUSES, end__gt=now)
        upcoming = list(upcoming.order_by("start")[: UPCOMING_SHOWN + 1])
        past = theirs.exclude(status__in=UPCOMING_STATUSES, end__gt=now)
        past = list(past.order_by("-start")[: PAST_SHOWN + 1])
        changelist = reverse("admin:appointments_appointment_changelist")
        all_of_them = f"{changelist}?patient__id__exact={patient_pk}"
        return {
            "patient_appointments": {
                "upcoming": [_row(a) for a in upcoming[:UPCOMING_SHOWN]],
                "more_upcoming": len(upcoming) > UPCOMING_SHOWN,
                "past": [_row(a) for a in past[:PAST_SHOWN]],
                "more_past": len(past) > PAST_SHOWN,
                "all_url": all_of_them,
            }
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(_clinical_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        """The one save of the patient's page: through the services, which hold the consent
        rules and stamp consent changes, never the form's own `save`."""
        if not change:
            add_patient(obj)
            return
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in _MODEL_FIELDS
        }
        update_patient_profile(patient=obj, changes=changes)
        # The service saved the row it read under its lock; the admin goes on with `obj`
        # (the change message, the audit entry, the page it returns to): read it as saved.
        obj.refresh_from_db()


def _row(appointment: Appointment) -> dict:
    return {
        "url": reverse("admin:appointments_appointment_change", args=[appointment.pk]),
        "start": appointment.local_start,
        "end": appointment.local_end,
        "service": appointment.service.name,
        "practitioner": str(appointment.practitioner),
        "location": appointment.location.name,
        "status": appointment.get_status_display(),
        "status_code": appointment.status,
    }


def _clinical_context(request, patient: Patient) -> dict:
    """The red-flag marker for anyone who sees the patient; the progress chart, and the
    reasons for the marker, only for those who may read the patient's clinical records.
    A fixed number of queries, whatever the patient's history."""
    flags = open_red_flags(patient)
    may_read = clinical_patients_for(request.user).filter(pk=patient.pk).exists()
    context: dict = {"red_flags": None, "clinical": None}
    if flags:
        context["red_flags"] = {
            "reasons": [RedFlag(flag).label for flag in flags] if may_read else [],
            "url": _treatments_url("intake", patient) if may_read else None,
        }
    if not may_read:
        return context
    user = request.user
    progress = progress_of(user, patient)
    plans = progress.plans
    plan = next((p for p in plans if p.status == PlanStatus.ACTIVE), plans[0] if plans else None)
    pain, odi = progress.pain, progress.odi
    context["clinical"] = {
        "progress": progress,
        "chart": chart_of(
            progress, today=timezone.localdate(), title=f"Progress of {patient.full_name}"
        ),
        "pain_count": len(pain),
        "odi_count": len(odi),
        "latest_pain": pain[-1] if pain else None,
        "latest_odi": odi[-1] if odi else None,
        "start_back": Risk(risk).label
        if (risk := latest_risk_by_patient([patient.pk]).get(patient.pk))
        else None,
        "rescreen_due": patient.pk in rescreen_due_among([patient.pk]),
        "latest_rmdq": progress.rmdq[-1] if progress.rmdq else None,
        "latest_psfs": progress.psfs[-1] if progress.psfs else None,
        "plan": plan,
        "plan_url": reverse("admin:treatments_treatmentplan_change", args=[plan.pk])
        if plan
        else None,
        "links": [
            ("Notes", _treatments_url("treatmentnote", patient)),
            ("Scores", _treatments_url("outcomemeasure", patient)),
            ("Intake", _treatments_url("intake", patient)),
            ("Plans", _treatments_url("treatmentplan", patient)),
            ("Home programme", _treatments_url("homeexercise", patient)),
        ],
        "actions": [
            (label, f"{reverse(f'admin:treatments_{model}_add')}?patient={patient.pk}")
            for label, model, wanted in (
                ("Record a score", "outcomemeasure", True),
                ("Enter an intake", "intake", True),
                ("Start a plan", "treatmentplan", plan is None or plan.status != PlanStatus.ACTIVE),
                (
                    "Prescribe a home exercise",
                    "homeexercise",
                    plan is not None and plan.status == PlanStatus.ACTIVE,
                ),
            )
            if wanted and user.has_perm(f"treatments.add_{model}")
        ],
    }
    return context


def _treatments_url(model: str, patient: Patient) -> str:
    return f"{reverse(f'admin:treatments_{model}_changelist')}?patient={patient.pk}"


def _as_pk(object_id) -> int | None:
    """A patient's id from a URL, or None for anything that cannot be one."""
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**31 else None
