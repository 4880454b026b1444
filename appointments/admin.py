from django.contrib import admin

from .models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Appointments are booked, moved and cancelled through the scheduling core, so this
    page shows them but never writes times, rooms or statuses itself."""

    list_display = ["start", "patient", "practitioner", "service", "location", "room", "status"]
    list_filter = ["status", "location", "practitioner", "service"]
    list_select_related = ["patient", "practitioner__user", "service", "location", "room"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    date_hierarchy = "start"
    fields = [
        "patient",
        "practitioner",
        "service",
        "location",
        "room",
        "room_place",
        "start",
        "end",
        "blocked_until",
        "price",
        "status",
        "source",
        "note",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
        "rescheduled_at",
        "checked_in_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    ]
    readonly_fields = [f for f in fields if f != "note"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
