from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import health

urlpatterns = [
    path("admin/", admin.site.urls),
    # Exact path, no trailing slash: SECURE_REDIRECT_EXEMPT matches "^healthz$".
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include("clinic.api_v1")),
    # The SMS provider's and the email service's callbacks: signed, in the providers' own
    # shapes, so not part of the API (nor of its schema).
    path("webhooks/", include("notifications.webhooks")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL instead of inline, so the docs
    # work under the Content-Security-Policy (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

handler403 = "kernel.errors.permission_denied"
handler404 = "kernel.errors.page_not_found"
handler500 = "kernel.errors.server_error"
