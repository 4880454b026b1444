"""What staff meet when they are refused, and where the admin's "View site" leads: a 403 is
one log line without a traceback, a styled page in the admin, and a record out of reach
says so instead of "Perhaps it was deleted?"."""

import io
import logging
import re
from contextlib import contextmanager

import pytest
from django.urls import reverse

from appointments.services import book_appointment
from records.services import archive_patient
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at
from treatments.services import submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now")

NOT_DELETED = "Perhaps it was deleted?"
NO_ACCESS = "You don&#x27;t have access to this patient&#x27;s record."


@contextmanager
def log_output():
    """What the configured handlers write for a request's log records, as one string:
    every console handler from `django.request` up to the root, swapped for a buffer."""
    buffer = io.StringIO()
    swapped = []
    logger = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            # Exactly the settings' class: pytest's capturing handlers subclass it.
            if type(handler) is logging.StreamHandler:
                swapped.append((handler, handler.setStream(buffer)))
        logger = logger.parent if logger.propagate else None
    try:
        yield buffer
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


class TestA403IsOneLine:
    @pytest.fixture(autouse=True)
    def _debug(self, settings):
        # DEBUG as `make run` has it: Django's own console handler writes only then.
        settings.DEBUG = True

    def test_in_the_admin(self, reception_staff):
        with log_output() as written:
            response = reception_staff.get(reverse("admin:practice_location_add"))

        lines = written.getvalue().splitlines()
        assert response.status_code == 403
        assert len(lines) == 1 and "Forbidden" in lines[0] and "WARNING" in lines[0]
        assert "Traceback" not in written.getvalue()

    def test_in_the_api(self, as_patient):
        with log_output() as written:
            response = as_patient.get("/api/v1/patients/")

        lines = written.getvalue().splitlines()
        assert response.status_code == 403
        assert len(lines) == 1 and "Forbidden" in lines[0]

    def test_a_server_error_keeps_its_traceback(self):
        request_logger = logging.getLogger("django.request")
        with log_output() as written:
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                request_logger.error(
                    "Internal Server Error: /x", exc_info=True, extra={"status_code": 500}
                )

        assert written.getvalue().count("Internal Server Error") == 1
        assert "Traceback" in written.getvalue()


def test_view_site_leads_to_a_page_that_exists(reception_staff):
    index = reception_staff.get(reverse("admin:index")).content.decode()

    link = re.search(r'<a href="([^"]+)">View site</a>', index).group(1)
    assert reception_staff.get(link).status_code == 200


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("reception_staff", "admin:practice_location_add"),
        ("reception_staff", "admin:treatments_intake_changelist"),
        ("manager_staff", "admin:treatments_treatmentnote_add"),
    ],
)
def test_a_refused_admin_page_is_styled_like_the_admin(request, who, page):
    client = request.getfixturevalue(who)

    response = client.get(reverse(page))

    body = response.content.decode()
    assert response.status_code == 403
    assert "admin/css/base.css" in body  # the admin's look, not Django's bare page
    assert 'id="site-name"' in body and "Log out" in body
    assert "Your role does not give you access to this page" in body


def test_an_api_403_keeps_the_error_shape(as_patient):
    response = as_patient.get("/api/v1/patients/")

    assert response.status_code == 403 and response.json()["code"]


class TestARecordOutOfReach:
    """A practitioner is told they have no access — the same whether or not such a record
    exists, so the message tells them nothing the lists do not."""

    def messages_after(self, client, url) -> str:
        return client.get(url, follow=True).content.decode()

    def test_an_archived_patient_not_in_their_care(
        self, practitioner_staff, manager_staff_user, patient
    ):
        archive_patient(patient=patient, by=manager_staff_user, reason="Moved interstate")

        page = self.messages_after(
            practitioner_staff, reverse("admin:patients_patient_change", args=[patient.pk])
        )

        assert NO_ACCESS in page and NOT_DELETED not in page

    def test_another_practitioners_patients_intake(self, practitioner_staff):
        stranger = PatientFactory(first_name="Sam", last_name="Stranger")
        intake = submit_intake(
            patient=stranger,
            answers={"complaint": "Back pain", "pain_score": 5, "duration": "acute"},
            entered_by=None,
        )

        page = self.messages_after(
            practitioner_staff, reverse("admin:treatments_intake_change", args=[intake.pk])
        )

        assert NO_ACCESS in page and NOT_DELETED not in page
        assert "Sam" not in page

    def test_an_id_that_does_not_exist_reads_the_same(self, practitioner_staff):
        page = self.messages_after(
            practitioner_staff, reverse("admin:treatments_intake_change", args=[987654])
        )

        assert NO_ACCESS in page and NOT_DELETED not in page

    def test_another_practitioners_appointment(
        self, practitioner_staff, second_myotherapist, assessed_patient, myotherapy
    ):
        theirs = book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=second_myotherapist,
            start=at(TODAY, 11),
        )

        page = self.messages_after(
            practitioner_staff, reverse("admin:appointments_appointment_change", args=[theirs.pk])
        )

        assert "You don&#x27;t have access to this appointment." in page
        assert NOT_DELETED not in page
