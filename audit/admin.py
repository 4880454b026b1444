"""The audit log for managers: read-only, filterable by action, actor and patient."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "patient",
        "source_ip",
    ]
    list_filter = ["action", "object_type"]
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
