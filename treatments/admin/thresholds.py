"""The clinic's thresholds of clinically important change (`treatments.change`): read by
practitioners, changed by a manager (say, to the Abbott & Schmitt "large" PSFS change of
2.7 points). One row per instrument, seeded by a migration with its source; none is added
or deleted here, so every instrument keeps its threshold and its citation."""

from __future__ import annotations

from django.contrib import admin

from ..models import ImportantChange


@admin.register(ImportantChange)
class ImportantChangeAdmin(admin.ModelAdmin):
    list_display = ["kind", "direction", "points", "percent", "recovered_at_most", "updated_at"]
    readonly_fields = ["kind", "direction", "updated_at"]
    fields = [
        "kind",
        "direction",
        "points",
        "percent",
        "source",
        "recovered_at_most",
        "recovered_source",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # the seeded rows, one per instrument

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
