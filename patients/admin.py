from django.contrib import admin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "mobile", "is_active"]
    list_filter = ["is_active", "consent_email", "consent_sms"]
    search_fields = ["first_name", "last_name", "email", "mobile"]
    readonly_fields = ["created_at", "updated_at", "consents_updated_at"]
    raw_id_fields = ["user"]
