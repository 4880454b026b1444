"""Patients in the admin, as reception uses them: search, duplicates, appointments on the
patient's page, consents, and a query count that does not grow with the rows."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import CANCELLED_STATUSES, UPCOMING_STATUSES, Status
from appointments.services import book_appointment
from kernel.errors import DomainError
from patients.models import Patient
from records.services import archive_patient
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import NOW, TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now")

THURSDAY = TODAY + timedelta(days=3)
CHANGELIST = "admin:patients_patient_changelist"
ADD = "admin:patients_patient_add"


def change_url(patient) -> str:
    return reverse("admin:patients_patient_change", args=[patient.pk])


def appointment_url(appointment) -> str:
    return reverse("admin:appointments_appointment_change", args=[appointment.pk])


def form_data(patient: Patient | None = None, **overrides) -> dict:
    """What the patient form posts: the patient's current values, then the overrides
    (a checkbox is sent when true, left out when false)."""
    values = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1985-06-15",
        "is_active": True,
        "email": "",
        "mobile": "",
        "preferred_channel": "email",
        "consent_email": False,
        "consent_sms": False,
        "confirm_different_person": False,
    }
    if patient is not None:
        values.update(
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth.isoformat(),
            is_active=patient.is_active,
            email=patient.email,
            mobile=str(patient.mobile or ""),
            preferred_channel=patient.preferred_channel,
            consent_email=patient.consent_email,
            consent_sms=patient.consent_sms,
        )
    values.update(overrides)
    data = {"_save": "Save"}
    for name, value in values.items():
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = value
    return data


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was expected back with errors"
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def book(patient, practitioner, service, location, room, start, status=Status.BOOKED, **fields):
    if status in CANCELLED_STATUSES:
        fields.setdefault("cancelled_at", NOW)
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=start,
        status=status,
        **fields,
    )


class TestSearch:
    @pytest.fixture
    def people(self, db):
        return [
            PatientFactory(
                first_name="Sam", last_name="Lee", mobile="+61411111111", email="sam@example.com"
            ),
            PatientFactory(
                first_name="Samira",
                last_name="Khan",
                mobile="+61422222222",
                email="samira@example.com",
            ),
            PatientFactory(
                first_name="Tom",
                last_name="Ng",
                mobile="+61433333333",
                email="tom@example.com",
                date_of_birth=date(1970, 2, 3),
            ),
        ]

    def found(self, client, query) -> set[str]:
        response = client.get(reverse(CHANGELIST), {"q": query})
        assert response.status_code == 200
        return {patient.first_name for patient in response.context["cl"].result_list}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("sam", {"Sam", "Samira"}),
            ("KHAN", {"Samira"}),
            ("sam lee", {"Sam"}),
            ("samira@example", {"Samira"}),
            ("0411111111", {"Sam"}),
            ("0411 111 111", {"Sam"}),
            ("0411-111-111", {"Sam"}),
            ("+61 411 111 111", {"Sam"}),
            ("0422 222", {"Samira"}),
            ("1970-02-03", {"Tom"}),
            ("3/2/1970", {"Tom"}),
            ("03/02/1970", {"Tom"}),
            ("tom 1970-02-03", {"Tom"}),
            ("sam 1970-02-03", set()),
            ("nobody", set()),
        ],
    )
    def test_by_name_email_phone_and_birth_date(self, reception_staff, people, query, expected):
        assert self.found(reception_staff, query) == expected

    def test_the_booking_forms_patient_autocomplete_searches_the_same_way(
        self, reception_staff, people
    ):
        response = reception_staff.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "appointments",
                "model_name": "appointment",
                "field_name": "patient",
                "term": "0411 111 111",
            },
        )

        assert response.status_code == 200
        sam = people[0]
        assert [hit["text"] for hit in response.json()["results"]] == [sam.search_label]

    def test_the_list_shows_name_birth_date_mobile_email(self, reception_staff, people):
        response = reception_staff.get(reverse(CHANGELIST))

        html = response.content.decode()
        for text in ("Lee, Sam", "0411 111 111", "sam@example.com", "3 Feb 1970"):
            assert text in html, text


class TestDuplicates:
    @pytest.fixture
    def ada(self, db):
        return PatientFactory(
            first_name="Ada", last_name="Lovelace", date_of_birth=date(1985, 6, 15)
        )

    def test_same_name_and_birth_date_is_refused_until_confirmed(self, reception_staff, ada):
        data = form_data(first_name="ada", last_name="LOVELACE", email="ada2@example.com")

        refused = reception_staff.post(reverse(ADD), data)

        errors = form_errors(refused)
        assert list(errors) == ["__all__"]
        assert "already on file" in errors["__all__"][0]
        html = refused.content.decode()
        assert f'href="{change_url(ada)}"' in html  # a link to the record already on file
        assert 'type="checkbox" name="confirm_different_person"' in html
        assert Patient.objects.count() == 1

        confirmed = reception_staff.post(reverse(ADD), {**data, "confirm_different_person": "on"})

        assert confirmed.status_code == 302
        assert Patient.objects.filter(last_name__iexact="lovelace").count() == 2

    def test_the_confirmation_is_hidden_when_there_is_nothing_to_confirm(self, reception_staff):
        html = reception_staff.get(reverse(ADD)).content.decode()

        assert 'type="hidden" name="confirm_different_person"' in html

    def test_another_birth_date_is_another_person(self, reception_staff, ada):
        response = reception_staff.post(reverse(ADD), form_data(date_of_birth="1985-06-16"))

        assert response.status_code == 302
        assert Patient.objects.count() == 2

    def test_an_inactive_record_does_not_count(self, reception_staff, ada):
        ada.is_active = False
        ada.save()

        response = reception_staff.post(reverse(ADD), form_data())

        assert response.status_code == 302

    def test_renaming_into_a_duplicate_warns_too(self, reception_staff, ada):
        other = PatientFactory(first_name="Ada", last_name="Byron", date_of_birth=date(1985, 6, 15))

        refused = reception_staff.post(change_url(other), form_data(other, last_name="Lovelace"))

        assert "already on file" in form_errors(refused)["__all__"][0]
        other.refresh_from_db()
        assert other.last_name == "Byron"
        confirmed = reception_staff.post(
            change_url(other),
            form_data(other, last_name="Lovelace", confirm_different_person=True),
        )
        assert confirmed.status_code == 302
        other.refresh_from_db()
        assert other.last_name == "Lovelace"

    def test_other_edits_of_a_confirmed_duplicate_do_not_ask_again(self, reception_staff, ada):
        twin = PatientFactory(
            first_name="Ada", last_name="Lovelace", date_of_birth=date(1985, 6, 15)
        )

        response = reception_staff.post(change_url(twin), form_data(twin, email="new@example.com"))

        assert response.status_code == 302
        twin.refresh_from_db()
        assert twin.email == "new@example.com"


class TestAppointmentsOnThePatientsPage:
    @pytest.fixture
    def history(self, patient, other_patient, location, treatment_rooms, myotherapist, myotherapy):
        room = treatment_rooms[0]

        def make(who, start, status=Status.BOOKED):
            return book(who, myotherapist, myotherapy, location, room, start, status)

        return {
            "tomorrow": make(patient, at(TODAY + timedelta(days=1), 10)),
            "next_week": make(patient, at(TODAY + timedelta(days=7), 14, 30)),
            "cancelled": make(patient, at(TODAY + timedelta(days=2), 11), Status.CANCELLED),
            "last_week": make(patient, at(TODAY - timedelta(days=7), 9), Status.COMPLETED),
            "no_show": make(patient, at(TODAY - timedelta(days=14), 9), Status.NO_SHOW),
            "someone_elses": make(other_patient, at(TODAY + timedelta(days=1), 11)),
        }

    @staticmethod
    def table(html: str, table_id: str) -> str:
        start = html.index(f'id="{table_id}"')
        return html[start : html.index("</table>", start)]

    def test_upcoming_then_past_with_links_in_local_time(self, reception_staff, patient, history):
        response = reception_staff.get(change_url(patient))

        assert response.status_code == 200
        html = response.content.decode()
        upcoming = self.table(html, "upcoming-appointments")
        past = self.table(html, "past-appointments")
        assert upcoming.index(appointment_url(history["tomorrow"])) < upcoming.index(
            appointment_url(history["next_week"])
        )
        assert "Tue 23 Mar 2027, 10:00" in upcoming  # Melbourne time, not UTC
        assert "Myotherapy 45" in upcoming
        assert "Mia Myo" in upcoming
        assert "Richmond" in upcoming
        for name in ("cancelled", "last_week", "no_show"):
            assert appointment_url(history[name]) in past
            assert appointment_url(history[name]) not in upcoming
        assert "Cancelled" in past
        assert "No-show" in past
        assert appointment_url(history["someone_elses"]) not in html

    def test_a_new_patient_has_none(self, reception_staff, patient):
        html = reception_staff.get(change_url(patient)).content.decode()

        assert "No upcoming appointments." in html
        assert "No past appointments." in html

    def test_the_list_shows_each_patients_next_appointment(self, reception_staff, patient, history):
        response = reception_staff.get(reverse(CHANGELIST))

        html = response.content.decode()
        assert f'href="{appointment_url(history["tomorrow"])}"' in html
        assert "Tue 23/03/2027 10:00" in html
        listed = {p.pk: p for p in response.context["cl"].result_list}
        assert listed[patient.pk].next_appointment_id == history["tomorrow"].pk

    @pytest.mark.parametrize("status", list(Status))
    def test_what_is_to_come_is_what_holds_off_archiving(
        self,
        manager_staff,
        manager_staff_user,
        patient,
        location,
        treatment_rooms,
        myotherapist,
        myotherapy,
        status,
    ):
        """The page's upcoming table, the list's next appointment and the archive's refusal
        ask one set of statuses (`UPCOMING_STATUSES`) of a session that has not ended."""
        started = at(TODAY, 7, 45)  # ends at 08:30, after the frozen now
        room = treatment_rooms[0]
        session = book(patient, myotherapist, myotherapy, location, room, started, status)

        page = manager_staff.get(change_url(patient)).content.decode()
        listed = {p.pk: p for p in manager_staff.get(reverse(CHANGELIST)).context["cl"].result_list}
        try:
            archive_patient(patient=patient, by=manager_staff_user, reason="Moved interstate.")
        except DomainError as refusal:
            assert refusal.code == "patient_has_upcoming_appointments"
            refused = True
        else:
            refused = False

        # The table is there only when there is something to show.
        upcoming = self.table(page, "upcoming-appointments") if "upcoming-" in page else ""
        on_the_page = appointment_url(session) in upcoming
        assert on_the_page == (listed[patient.pk].next_appointment_id == session.pk) == refused
        assert refused == (status in UPCOMING_STATUSES)


class TestConsents:
    @pytest.fixture
    def bea(self, db):
        return PatientFactory(
            first_name="Bea", last_name="Brown", email="bea@example.com", mobile="+61412345678"
        )

    def test_reception_records_consent_with_the_time(self, reception_staff, bea):
        response = reception_staff.post(
            change_url(bea), form_data(bea, consent_sms=True, preferred_channel="sms")
        )

        assert response.status_code == 302
        bea.refresh_from_db()
        assert (bea.consent_sms, bea.preferred_channel) == (True, "sms")
        assert bea.consents_updated_at == NOW

    def test_other_edits_leave_the_consent_time_alone(self, reception_staff, bea):
        response = reception_staff.post(change_url(bea), form_data(bea, first_name="Beatrice"))

        assert response.status_code == 302
        bea.refresh_from_db()
        assert bea.first_name == "Beatrice"
        assert bea.consents_updated_at is None

    def test_consent_changed_at_reception_moves_the_reminders_of_upcoming_bookings(
        self, reception_staff, bea, assessment, myotherapist
    ):
        """Issue 16, item 2: the admin goes through the same rule as the patient's API."""
        booked = book_appointment(
            patient=bea, service=assessment, practitioner=myotherapist, start=at(THURSDAY, 10)
        )

        reception_staff.post(change_url(bea), form_data(bea, consent_sms=True))
        bea.refresh_from_db()
        given = set(booked.notifications.filter(status="pending").values_list("kind", "channel"))
        reception_staff.post(change_url(bea), form_data(bea, consent_sms=False))
        withdrawn = set(booked.notifications.values_list("status", flat=True))

        assert given == {("reminder", "sms")}
        assert withdrawn == {"withdrawn"}

    def test_consents_given_when_adding_are_timed(self, reception_staff):
        response = reception_staff.post(
            reverse(ADD), form_data(email="ada@example.com", consent_email=True)
        )

        assert response.status_code == 302
        ada = Patient.objects.get(last_name="Lovelace")
        assert ada.consent_email
        assert ada.consents_updated_at == NOW

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"consent_sms": True, "mobile": ""}, "consent_sms"),
            ({"consent_email": True, "email": ""}, "consent_email"),
            ({"preferred_channel": "sms", "mobile": ""}, "preferred_channel"),
        ],
    )
    def test_consent_without_a_way_to_reach_is_a_form_error(
        self, reception_staff, bea, changes, field
    ):
        response = reception_staff.post(change_url(bea), form_data(bea, **changes))

        errors = form_errors(response)
        assert list(errors) == [field]
        before = (bea.email, bea.mobile, bea.consent_email, bea.consent_sms)
        bea.refresh_from_db()
        assert (bea.email, bea.mobile, bea.consent_email, bea.consent_sms) == before

    def test_a_bad_mobile_is_the_only_error_shown(self, reception_staff, bea):
        response = reception_staff.post(
            change_url(bea), form_data(bea, mobile="not a number", consent_sms=True)
        )

        assert list(form_errors(response)) == ["mobile"]

    def test_on_the_add_form_too(self, reception_staff):
        response = reception_staff.post(reverse(ADD), form_data(consent_sms=True))

        assert list(form_errors(response)) == ["consent_sms"]
        assert not Patient.objects.exists()

    def test_a_mobile_typed_the_australian_way_is_stored_in_e164(self, reception_staff):
        response = reception_staff.post(reverse(ADD), form_data(mobile="0412 345 678"))

        assert response.status_code == 302
        assert str(Patient.objects.get().mobile) == "+61412345678"


class TestWhoSeesWhom:
    def test_a_practitioner_lists_only_the_patients_they_treat(
        self,
        practitioner_staff,
        myotherapist,
        second_myotherapist,
        location,
        treatment_rooms,
        myotherapy,
        patient,
        other_patient,
    ):
        room = treatment_rooms[0]
        book(patient, myotherapist, myotherapy, location, room, at(TODAY, 10))
        book(other_patient, second_myotherapist, myotherapy, location, room, at(TODAY, 12))

        response = practitioner_staff.get(reverse(CHANGELIST))

        assert [p.pk for p in response.context["cl"].result_list] == [patient.pk]
        assert practitioner_staff.get(change_url(other_patient)).status_code == 302  # not found


class TestQueryCounts:
    """The patient list and the patient's page read a fixed number of queries, however many
    patients or appointments there are."""

    @staticmethod
    def queries_of(client, url) -> int:
        client.get(url)  # warm caches (content types, sessions) first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    def test_the_patient_list(
        self, reception_staff, location, treatment_rooms, myotherapist, myotherapy
    ):
        def add_patients(count, offset):
            for n in range(count):
                someone = PatientFactory(last_name=f"Patient{offset + n:03d}")
                day = TODAY + timedelta(days=1 + (offset + n) // 6)
                book(
                    someone,
                    myotherapist,
                    myotherapy,
                    location,
                    treatment_rooms[0],
                    at(day, 9 + (offset + n) % 6),
                )

        add_patients(3, 0)
        with_3 = self.queries_of(reception_staff, reverse(CHANGELIST))
        add_patients(27, 3)
        with_30 = self.queries_of(reception_staff, reverse(CHANGELIST))

        assert with_30 == with_3

    def test_the_patients_page(
        self, reception_staff, patient, location, treatment_rooms, myotherapist, myotherapy
    ):
        def add_appointments(count, offset):
            for n in range(offset, offset + count):
                past = n % 2 == 0
                day = TODAY + timedelta(days=(-1 - n) if past else (1 + n))
                status = Status.COMPLETED if past else Status.BOOKED
                book(
                    patient,
                    myotherapist,
                    myotherapy,
                    location,
                    treatment_rooms[0],
                    at(day, 10),
                    status,
                )

        add_appointments(3, 0)
        with_3 = self.queries_of(reception_staff, change_url(patient))
        add_appointments(27, 3)
        with_30 = self.queries_of(reception_staff, change_url(patient))

        assert with_30 == with_3

    def test_the_patients_page_shows_only_the_latest_past(
        self, reception_staff, patient, location, treatment_rooms, myotherapist, myotherapy
    ):
        for n in range(25):
            book(
                patient,
                myotherapist,
                myotherapy,
                location,
                treatment_rooms[0],
                at(TODAY - timedelta(days=1 + n), 10),
                Status.COMPLETED,
            )

        response = reception_staff.get(change_url(patient))

        shown = response.context["patient_appointments"]
        assert len(shown["past"]) == 20
        assert shown["more_past"]
        all_of_them = reception_staff.get(shown["all_url"])
        assert all_of_them.status_code == 200
        assert {a.patient_id for a in all_of_them.context["cl"].result_list} == {patient.pk}
        assert all_of_them.context["cl"].result_count == 25
