from django.contrib import admin

from kernel.admin_query import ForgivingQueryAdmin

from .models import (
    BookingRules,
    Break,
    ExtraHours,
    Leave,
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
    model = WorkingHours
    extra = 0
    fields = ["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
    show_change_link = True


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "disciplines", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["user__first_name", "user__last_name", "user__email", "title"]
    autocomplete_fields = ["user"]
    inlines = [WorkingHoursInline]


class BreakInline(admin.TabularInline):
    model = Break
    extra = 0


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "location", "weekday", "start_time", "end_time"]
    list_filter = ["location", "weekday", "practitioner"]
    list_select_related = ["practitioner__user", "location"]
    inlines = [BreakInline]


@admin.register(Leave)
class LeaveAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner__user"]
    date_hierarchy = "start"


@admin.register(ExtraHours)
class ExtraHoursAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = ["practitioner", "location", "date", "start_time", "end_time"]
    list_filter = ["location", "practitioner"]
    list_select_related = ["practitioner__user", "location"]
    date_hierarchy = "date"


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
        return not BookingRules.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
