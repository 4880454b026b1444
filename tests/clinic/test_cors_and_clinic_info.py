"""The booking site's origin may call the API from the browser; no other origin may. And
what the site says about the clinic (`GET /api/v1/clinic/`)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.usefixtures("fresh_throttles")

SITE = "https://book.clinic.example"
ELSEWHERE = "https://evil.example"


@pytest.fixture
def site_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [SITE]


def _preflight(origin: str, path: str = "/api/v1/appointments/"):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


class TestCors:
    def test_a_preflight_from_the_site_is_allowed_with_the_headers_it_sends(self, db, site_allowed):
        response = _preflight(SITE)

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SITE
        allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= allowed
        assert "Access-Control-Allow-Credentials" not in response

    def test_an_actual_request_from_the_site_gets_the_origin_back(self, db, site_allowed):
        response = Client().get("/api/v1/clinic/", HTTP_ORIGIN=SITE)

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SITE
        assert "Access-Control-Allow-Credentials" not in response

    def test_a_foreign_origin_gets_no_cors_headers(self, db, site_allowed):
        preflight = _preflight(ELSEWHERE)
        actual = Client().get("/api/v1/clinic/", HTTP_ORIGIN=ELSEWHERE)

        assert "Access-Control-Allow-Origin" not in preflight
        assert "Access-Control-Allow-Origin" not in actual

    def test_paths_outside_the_api_get_no_cors_headers(self, db, site_allowed):
        response = Client().get("/healthz", HTTP_ORIGIN=SITE)

        assert "Access-Control-Allow-Origin" not in response

    def test_by_default_the_site_urls_origin_is_allowed(self, settings):
        # The default is worked out from SITE_URL at start-up (clinic/settings/base.py).
        assert "http://127.0.0.1:8001" in settings.CORS_ALLOWED_ORIGINS
        assert settings.CORS_ALLOW_CREDENTIALS is False


class TestClinicInfo:
    def test_anyone_reads_the_clinic_and_its_booking_rules(self, db, anonymous, settings):
        settings.CLINIC_NAME = "Back Clinic"
        settings.CLINIC_PHONE = "+61 3 9999 0000"
        settings.CLINIC_EMAIL = "hello@back.example"
        settings.HOLD_MINUTES = 7

        response = anonymous.get("/api/v1/clinic/")

        assert response.status_code == 200
        assert response.json() == {
            "name": "Back Clinic",
            "phone": "+61 3 9999 0000",
            "email": "hello@back.example",
            "cancellation_window_hours": 24,
            "online_horizon_days": 56,
            "hold_minutes": 7,
            "new_patients_start_with_assessment": True,
            "time_zone": "Australia/Melbourne",
        }

    def test_it_follows_the_managers_booking_rules(self, as_patient):
        from practice.models import BookingRules

        rules = BookingRules.current()
        rules.new_patients_start_with_assessment = False
        rules.cancellation_window_hours = 48
        rules.save()

        body = as_patient.get("/api/v1/clinic/").json()

        assert body["new_patients_start_with_assessment"] is False
        assert body["cancellation_window_hours"] == 48

    def test_the_services_list_says_which_service_new_patients_start_with(
        self, anonymous, assessment
    ):
        services = anonymous.get("/api/v1/services/").json()["results"]

        assert [s["is_assessment"] for s in services] == [True]
