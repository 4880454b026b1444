from django.contrib import admin

from .models import (
    BookingRules,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "time_zone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "address"]
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "kind", "capacity", "is_active"]
    list_filter = ["location", "kind", "is_active"]
    list_select_related = ["location"]
    search_fields = ["name", "location__name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "duration_minutes",
        "buffer_after_minutes",
        "price",
        "room_kind",
        "bookable_online",
        "is_assessment",
        "is_active",
    ]
    list_filter = ["room_kind", "bookable_online", "is_assessment", "is_active"]
    search_fields = ["name"]


class WorkingHoursInline(admin.TabularInline):
    """The rota at a glance. Each line is changed on its own page (`diary.admin_working_time`),
    where a change that leaves booked patients outside working time asks what to do with them."""

    model = WorkingHours
    extra = 0
    fields = ["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "disciplines", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["user__first_name", "user__last_name", "user__email", "title"]
    autocomplete_fields = ["user"]
    inlines = [WorkingHoursInline]


@admin.register(BookingRules)
class BookingRulesAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "slot_grid_minutes",
        "online_lead_time_minutes",
        "online_horizon_days",
        "cancellation_window_hours",
    ]

    def has_add_permission(self, request) -> bool:
        # One row, and only for those whose role may add it at all.
        return super().has_add_permission(request) and not BookingRules.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
