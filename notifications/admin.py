"""The message log (read-only), the patients' SMS replies (reception's inbox), the templates
with a preview, and the messaging rules."""

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from kernel.admin_query import ForgivingQueryAdmin

from .callbacks import mark_replies_handled
from .choices import FOR_THE_FRONT_DESK, Kind
from .models import MessageTemplate, MessagingSettings, Notification, Reply
from .selectors import notifications_for, replies_for
from .wording import COURSE_KINDS, Visit, check_template, message_context, render_message

# The visit a preview describes; its words come from the same function as a real message's.
SAMPLE_VISIT = Visit(
    start=datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Australia/Melbourne")),
    service="Myotherapy (SMM, 45 min)",
    practitioner="Mia Myo",
    location="Richmond",
    address="12 Swan Street, Richmond VIC 3121",
)
SAMPLE_COURSE = [
    dataclasses.replace(SAMPLE_VISIT, start=SAMPLE_VISIT.start + timedelta(weeks=week))
    for week in range(3)
]
SAMPLE_PROGRAMME = "Bird dog: 3 x 8, 3 times a week\nGlute bridge: 3 x 12, 3 times a week"


@admin.register(Notification)
class NotificationAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    """What was sent to whom, when and why — or why not."""

    list_display = [
        "due_at",
        "kind",
        "channel",
        "patient",
        "appointment_id",
        "status",
        "provider_status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "channel", "provider_status"]
    list_select_related = ["patient"]
    search_fields = ["patient__first_name", "patient__last_name", "recipient"]
    date_hierarchy = "due_at"
    readonly_fields = [field.name for field in Notification._meta.fields]

    def get_queryset(self, request):
        # The same scope as the API's log: a practitioner sees the patients they treat.
        return notifications_for(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ToHandleFilter(admin.SimpleListFilter):
    """The inbox: replies someone must still act on (a question, a late cancellation)."""

    title = "reception"
    parameter_name = "to_handle"

    def lookups(self, request, model_admin):
        return [("yes", "To handle"), ("no", "Handled or done by itself")]

    def queryset(self, request, queryset):
        waiting = {"action__in": FOR_THE_FRONT_DESK, "handled_at__isnull": True}
        if self.value() == "yes":
            return queryset.filter(**waiting)
        if self.value() == "no":
            return queryset.exclude(**waiting)
        return queryset


@admin.register(Reply)
class ReplyAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    """Every SMS patients sent, with what it did; "To handle" is reception's inbox."""

    list_display = [
        "received_at",
        "patient",
        "sender",
        "body",
        "action",
        "appointment_id",
        "outcome",
        "handled_at",
    ]
    list_filter = [ToHandleFilter, "action"]
    search_fields = ["patient__first_name", "patient__last_name", "sender", "body"]
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in Reply._meta.fields]
    actions = ["mark_handled"]

    def get_queryset(self, request):
        return replies_for(request.user)

    @admin.action(description="Mark the selected replies handled", permissions=["change"])
    def mark_handled(self, request, queryset) -> None:
        handled = mark_replies_handled(queryset, by=request.user)
        self.message_user(request, f"{handled} replies marked handled.")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The name of the change form's "Preview" button (its template adds it beside "Save").
PREVIEW = "_preview"


class MessageTemplateForm(forms.ModelForm):
    """A template's words. Posted with the "Preview" button, the edits are checked exactly
    as a save checks them (unknown variables, syntax) but the form reports itself not
    valid, so the admin shows the page again, with the edits, their errors and the preview
    of the unsaved words (the preview reads the form's instance), and saves nothing: a
    template is seen before it is live."""

    def is_valid(self) -> bool:
        return super().is_valid() and PREVIEW not in self.data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["kind", "channel", "subject", "updated_at"]
    list_filter = ["channel"]
    readonly_fields = ["preview"]
    fields = ["kind", "channel", "subject", "body", "preview"]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["previewing"] = PREVIEW in request.POST
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Preview (with sample details)")
    def preview(self, template: MessageTemplate) -> str:
        """The message exactly as it would be stored and sent, escaped only for this page."""
        course = SAMPLE_COURSE if template.kind in COURSE_KINDS else None
        values = message_context(
            first_name="Alex",
            visit=SAMPLE_VISIT,
            course=course,
            programme=SAMPLE_PROGRAMME if template.kind == Kind.MAINTENANCE_PROMPT else None,
        )
        try:
            subject = render_message(check_template(template.subject, kind=template.kind), values)
            body = render_message(check_template(template.body, kind=template.kind), values)
        except ValidationError as error:
            return format_html('<span class="errornote">{}</span>', " ".join(error.messages))
        return format_html(
            '<div style="white-space: pre-wrap"><strong>{}</strong>\n\n{}</div>', subject, body
        )

    def has_add_permission(self, request) -> bool:
        return False  # one template per kind and channel, made by a migration

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MessagingSettings)
class MessagingSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reminder_offsets_hours", "quiet_hours_start", "quiet_hours_end"]

    def has_add_permission(self, request) -> bool:
        # One row, and only for those whose role may add it at all.
        return super().has_add_permission(request) and not MessagingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
