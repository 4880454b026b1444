"""The product's URLs plus trivial DRF endpoints that the HTTP benchmark measures as its
baseline. Only bench/settings.py routes here; clinic/urls.py never includes these."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class TrivialView(APIView):
    """The least a DRF endpoint does: the default authentication (a Bearer token is
    checked and its user loaded, as for the real endpoints), content negotiation, parsing
    a JSON body on POST, and rendering {"ok": true}."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True, "fields": len(request.data)})


urlpatterns = [
    path("bench/trivial/", TrivialView.as_view(), name="bench-trivial"),
    path("", include("clinic.urls")),
]
