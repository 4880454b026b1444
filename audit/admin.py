"""The audit log in the admin: the managers' read-only view of it. What makes the admin pages
of patients' records write it is `audit.mixins.AuditedAdmin`."""

from django.contrib import admin

from kernel.admin_query import ForgivingQueryAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = [
        "at",
        "actor_label",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient",
        "source_ip",
    ]
    list_filter = ["action", "actor_role", "object_type"]
    search_fields = ["actor_label", "object_id", "patient__last_name", "patient__email"]
    date_hierarchy = "at"
    list_select_related = ["patient"]
    show_full_result_count = False  # counting a large log on every page costs seconds

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
