"""The audit log in the admin: the managers' read-only view of it, and `AuditedAdmin`, which
makes the admin pages of patients' records write it.

`AuditedAdmin` goes first among the bases of a ModelAdmin. It writes a READ entry for a
record's page (and one per row of a list page, in one INSERT), a CREATE entry when the
admin logs an addition and an UPDATE entry when it logs a change — with the names of the
fields the form changed (an inline counts as one field, e.g. `exercises`), or the action's
name for the admin's own actions. The admin logs a change in the transaction of the change
(pages that change records through their own views must log inside one too).
"""

from django.contrib import admin

from kernel.admin_query import ForgivingQueryAdmin

from .models import Action, AuditEntry
from .services import record, record_reads


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


class AuditedAdmin:
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and obj.pk is not None:
            record(Action.READ, request=request, obj=obj, detail={"path": request.path})
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # The page's own queryset: evaluated here, its rows are what the page renders.
            record_reads(request, changelist.result_list, detail={"path": request.path})
        return response

    def construct_change_message(self, request, form, formsets, add=False):
        self.remember_changes(request, form, formsets)
        return super().construct_change_message(request, form, formsets, add)

    def remember_changes(self, request, form, formsets) -> None:
        """The names of the fields the form changed, for the entry of `log_change`."""
        model_fields = {field.name for field in self.model._meta.get_fields()}
        request._audit_changed_fields = sorted(
            [name for name in form.changed_data if name in model_fields]
            + [formset.prefix for formset in formsets if formset.has_changed()]
        )

    def log_addition(self, request, obj, message):
        record(Action.CREATE, request=request, obj=obj, detail={"path": request.path})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        detail = {"path": request.path}
        fields = getattr(request, "_audit_changed_fields", None)
        if fields is not None:
            detail["fields"] = fields
        elif isinstance(message, str):
            detail["change"] = message  # the name of one of the admin's own actions
        record(Action.UPDATE, request=request, obj=obj, detail=detail)
        return super().log_change(request, obj, message)
