"""Reception's day in the admin: the day view, booking into a free slot, moving,
cancelling, check-in, completion and no-shows — with Django's test client."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.permissions import sync_role_group
from appointments.models import (
    CANCELLED_STATUSES,
    Appointment,
    ConfirmedVia,
    Source,
    Status,
)
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    confirm_appointment,
)
from care.selectors import bookable_patients_for
from diary.admin_forms import slot_value
from patients.models import CareAssignment
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, UserFactory
from tests.fixtures.clinic import NOW, TODAY, at, work_every_day
from treatments.selectors import sessions_that_can_carry_a_note
from treatments.services import submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = TODAY + timedelta(days=1)
DAY = reverse("admin:appointments_appointment_day")
BOOK = reverse("admin:appointments_appointment_book")
LIST = reverse("admin:appointments_appointment_changelist")
# "Any date" clicked inside the list: the list left unfiltered, not sent to today.
ANY_DATE = {"HTTP_REFERER": f"http://testserver{LIST}"}


@pytest.fixture
def desk(db) -> Client:
    """A receptionist: staff, in the Reception group and nothing else."""
    user = UserFactory(email="desk@clinic.example", is_staff=True)
    user.groups.add(sync_role_group("Reception"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db) -> Client:
    user = UserFactory(email="viewer@clinic.example", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_appointment", "view_patient"])
    )
    client = Client()
    client.force_login(user)
    return client


def day_url(day, location, service):
    return f"{DAY}?date={day}&location={location.pk}&service={service.pk}"


def booking(patient, service, practitioner, location, start, **extra):
    return {
        "patient": patient.pk,
        "service": service.pk,
        "date": start.date().isoformat(),
        "practitioner": practitioner.pk,
        "location": location.pk,
        "slot": slot_value(practitioner.pk, location.pk, start),
        "book": "1",
        **extra,
    }


def lane(page: str, practitioner) -> str:
    """A practitioner's column of the day's grid."""
    return page.split(f'data-practitioner="{practitioner.pk}"')[1].split('<div class="lane')[0]


def errors(response) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", " ", chunk)
        for chunk in re.findall(
            r"(?:errornote|errorlist)[^>]*>(.*?)</(?:p|ul)>", response.content.decode(), re.S
        )
    )


class TestDayView:
    def test_shows_each_practitioners_bookings_and_free_slots(
        self, desk, location, assessment, myotherapist, second_myotherapist, assessed_patient
    ):
        book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        page = desk.get(day_url(TUESDAY, location, assessment)).content.decode()

        assert f'data-practitioner="{myotherapist.pk}"' in page
        assert f'data-practitioner="{second_myotherapist.pk}"' in page
        assert "Ari Assessed" in page and "Booked" in page
        mia = lane(page, myotherapist)
        assert ">10:00-11:00<" in mia
        assert 'free-slot" href' in mia and ">09:00</a>" in mia
        assert ">10:00</a>" not in mia  # taken

    def test_a_free_slot_links_to_a_prefilled_booking_form(
        self, desk, location, assessment, myotherapist
    ):
        page = desk.get(day_url(TUESDAY, location, assessment)).content.decode()
        first_slot = re.search(r'class="cell free-slot" href="([^"]+)"', page).group(1)

        form = desk.get(first_slot.replace("&amp;", "&")).content.decode()

        value = slot_value(myotherapist.pk, location.pk, at(TUESDAY, 9))
        assert re.search(rf'value="{value}"[^>]*checked', form)

    def test_previous_and_next_day(self, desk, location, assessment, myotherapist):
        page = desk.get(day_url(TUESDAY, location, assessment)).content.decode()

        assert f"date={TODAY}" in re.search(r'previous-day[^"]*" href="([^"]+)"', page).group(1)
        following = TUESDAY + timedelta(days=1)
        assert f"date={following}" in re.search(r'next-day[^"]*" href="([^"]+)"', page).group(1)

    @pytest.mark.parametrize("who", ["desk", "manager_staff", "practitioner_staff"])
    def test_cancelled_and_no_show_appointments_stay_on_the_day_set_apart(
        self, request, who, location, assessment, myotherapist, assessed_patient, reception_user
    ):
        client = request.getfixturevalue(who)
        cancelled = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )
        cancel_appointment(appointment=cancelled, by=reception_user, reason="Moved away")
        missed = AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=assessment,
            location=location,
            room=cancelled.room,
            start=at(TUESDAY, 14),
            status=Status.NO_SHOW,
        )
        booked = book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        page = client.get(day_url(TUESDAY, location, assessment)).content.decode()

        def card(appointment) -> str:
            return re.search(
                rf'<div class="([^"]+)" data-appointment="{appointment.pk}"[^>]*>(.*?)</div>',
                page,
                re.S,
            )

        for appointment, label in ((cancelled, "Cancelled"), (missed, "No-show")):
            shown = card(appointment)
            assert shown, f"the {label} appointment is on the day"
            assert "not-occupying" in shown.group(1)
            assert f'<span class="status">&#10005; {label}</span>' in shown.group(2)
        assert "not-occupying" not in card(booked).group(1)
        assert page.index(f'data-appointment="{booked.pk}"') < page.index(
            f'data-appointment="{cancelled.pk}"'
        )

    def test_queries_do_not_grow_with_bookings_or_practitioners(
        self, desk, location, treatment_rooms, assessment, myotherapist
    ):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                response = desk.get(day_url(TUESDAY, location, assessment))
            assert response.status_code == 200
            return len(captured)

        book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )
        few = queries()
        for hour in range(10, 16):
            practitioner = PractitionerFactory()
            work_every_day(practitioner, location)
            for who in (practitioner, myotherapist):
                book_appointment(
                    patient=PatientFactory(),
                    service=assessment,
                    practitioner=who,
                    start=at(TUESDAY, hour),
                )
        many = queries()

        assert Appointment.objects.count() == 13
        assert many == few

    def test_viewers_without_booking_rights_see_no_booking_links(
        self, viewer, location, assessment, myotherapist
    ):
        page = viewer.get(day_url(TUESDAY, location, assessment)).content.decode()

        assert 'class="cell' not in page
        assert viewer.get(BOOK).status_code == 403


class TestAPractitionersView:
    """In the admin as in the API, a practitioner sees their own diary, not the clinic's."""

    @pytest.fixture
    def mia(self, myotherapist) -> Client:
        myotherapist.user.groups.add(sync_role_group("Practitioner"))
        client = Client()
        client.force_login(myotherapist.user)
        return client

    @pytest.fixture
    def theirs_and_mine(
        self, location, treatment_rooms, assessment, myotherapist, second_myotherapist
    ):
        return [
            AppointmentFactory(
                practitioner=who,
                service=assessment,
                location=location,
                room=room,
                start=at(TUESDAY, 10),
                status=Status.BOOKED,
            )
            for who, room in zip((second_myotherapist, myotherapist), treatment_rooms, strict=False)
        ]

    def test_the_list_and_the_day_show_only_their_own(
        self, mia, theirs_and_mine, location, assessment
    ):
        theirs, mine = theirs_and_mine

        listed = mia.get(LIST, **ANY_DATE).context["cl"].result_list
        day = mia.get(day_url(TUESDAY, location, assessment)).content.decode()

        assert list(listed) == [mine]
        assert str(mine.patient) in day and str(theirs.patient) not in day

    def test_a_colleagues_booking_cannot_be_opened(self, mia, theirs_and_mine):
        theirs, _ = theirs_and_mine

        page = mia.get(f"/admin/appointments/appointment/{theirs.pk}/change/")

        assert page.status_code == 302  # the admin's "does not exist"
        assert str(theirs.patient) not in mia.get(page.url).content.decode()

    @pytest.mark.parametrize(  # booked an hour ago: started, perhaps not checked in yet
        ("hours_from_now", "status"),
        [(26, Status.BOOKED), (-1, Status.BOOKED), (-1, Status.CHECKED_IN)]
        + [(-24, status) for status in (Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCELLED)],
    )
    def test_write_note_is_offered_for_the_sessions_that_can_carry_one(
        self, mia, myotherapist, location, treatment_rooms, assessment, hours_from_now, status
    ):
        start = NOW + timedelta(hours=hours_from_now)
        session = AppointmentFactory(
            practitioner=myotherapist,
            service=assessment,
            location=location,
            room=treatment_rooms[0],
            start=start,
            status=status,
            cancelled_at=start if status in CANCELLED_STATUSES else None,
        )

        page = mia.get(f"/admin/appointments/appointment/{session.pk}/change/").content.decode()

        may_carry = Appointment.objects.filter(sessions_that_can_carry_a_note(), pk=session.pk)
        assert ("Write note" in page) == may_carry.exists()

    def test_the_booking_form_offers_only_the_patients_they_may_book(
        self, mia, myotherapist, patient, other_patient, location, assessment
    ):
        # A practitioner the clinic lets book at the desk too: still only their own patients.
        myotherapist.user.user_permissions.add(Permission.objects.get(codename="add_appointment"))
        CareAssignment.objects.create(
            patient=patient, practitioner=myotherapist, assigned_by=UserFactory()
        )

        offered = mia.get(BOOK).context["form"].fields["patient"].queryset
        response = mia.post(
            BOOK, booking(other_patient, assessment, myotherapist, location, at(TUESDAY, 9))
        )

        assert list(offered) == list(bookable_patients_for(myotherapist.user)) == [patient]
        assert "Select a valid choice" in errors(response)
        assert not Appointment.objects.filter(patient=other_patient).exists()


class TestBookingForm:
    def test_books_into_a_free_slot_and_returns_to_the_day(
        self, desk, location, assessment, myotherapist, new_patient
    ):
        response = desk.post(
            BOOK, booking(new_patient, assessment, myotherapist, location, at(TUESDAY, 9))
        )

        appointment = Appointment.objects.get(patient=new_patient)
        assert response.status_code == 302
        assert response["Location"] == day_url(TUESDAY, location, assessment)
        assert appointment.start == at(TUESDAY, 9)
        assert appointment.source == Source.RECEPTION
        assert appointment.created_by.email == "desk@clinic.example"
        page = desk.get(response["Location"]).content.decode()
        assert "Booked Initial assessment for Nia New" in page

    def test_the_date_widget_gets_the_admin_translations_first(self, desk):
        page = desk.get(BOOK).content.decode()

        jsi18n = page.index(reverse("admin:jsi18n"))
        assert jsi18n < page.index("admin/js/calendar.js")

    def test_find_lists_the_free_slots(self, desk, location, assessment, myotherapist):
        response = desk.post(
            BOOK, {"service": assessment.pk, "date": TUESDAY.isoformat(), "find": "1"}
        )

        assert response.content.decode().count('name="slot"') == 29  # 09:00 ... 16:00

    def test_a_slot_taken_a_second_ago_is_a_form_error(
        self, desk, location, assessment, myotherapist, new_patient, other_patient
    ):
        book_appointment(
            patient=other_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )

        response = desk.post(
            BOOK, booking(new_patient, assessment, myotherapist, location, at(TUESDAY, 9))
        )

        assert response.status_code == 200
        assert "Mia Myo is already booked at that time." in errors(response)
        assert not Appointment.objects.filter(patient=new_patient).exists()

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"patient": ""}, "Choose the patient."),
            ({"slot": ""}, "Pick one of the free slots."),
            ({"slot": "garbage"}, "Pick one of the free slots."),
            ({"service": "999999"}, "Select a valid choice"),
        ],
    )
    def test_missing_or_bad_input_is_a_form_error(
        self, desk, location, assessment, myotherapist, new_patient, changes, message
    ):
        data = booking(new_patient, assessment, myotherapist, location, at(TUESDAY, 9))
        data.update(changes)

        response = desk.post(BOOK, data)

        assert response.status_code == 200
        assert message in errors(response)
        assert not Appointment.objects.exists()

    def test_the_rules_speak_through_the_form(
        self, desk, location, myotherapy, myotherapist, new_patient
    ):
        response = desk.post(
            BOOK, booking(new_patient, myotherapy, myotherapist, location, at(TUESDAY, 9))
        )

        assert "New patients start with an initial assessment" in errors(response)

    def test_add_appointment_goes_to_the_booking_form(self, desk):
        response = desk.get(reverse("admin:appointments_appointment_add"))

        assert response.status_code == 302 and response["Location"] == BOOK


class TestOneAppointment:
    @pytest.fixture
    def booked(self, assessed_patient, assessment, myotherapist):
        return book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 10),
        )

    def url(self, appointment, name, *extra):
        return reverse(f"admin:appointments_appointment_{name}", args=[appointment.pk, *extra])

    def test_the_page_offers_the_next_steps(self, desk, booked):
        page = desk.get(self.url(booked, "change")).content.decode()

        for label in ("Check in", "Complete", "No-show", "Move", "Cancel"):
            assert label in page

    def test_the_page_and_the_list_say_whether_and_how_the_patient_confirmed(self, desk, booked):
        before = desk.get(self.url(booked, "change")).content.decode()
        confirm_appointment(appointment=booked, via=ConfirmedVia.SMS_REPLY)

        page = desk.get(self.url(booked, "change")).content.decode()
        listed = desk.get(f"{LIST}?start__year=2027&start__month=3&start__day=22").content.decode()

        assert "SMS reply" not in before and "SMS reply" in page
        assert "Patient confirmed" in listed and 'alt="True"' in listed

    def test_check_in_then_complete(self, desk, booked):
        desk.post(self.url(booked, "status", "check-in"))
        with time_machine.travel(at(TODAY, 11), tick=False):
            desk.post(self.url(booked, "status", "complete"))

        booked.refresh_from_db()
        assert booked.status == Status.COMPLETED
        assert booked.checked_in_at and booked.completed_at

    def test_a_refused_change_is_a_message_not_an_error_page(self, desk, booked):
        response = desk.post(self.url(booked, "status", "no-show"), follow=True)

        booked.refresh_from_db()
        assert booked.status == Status.BOOKED
        assert "has not started yet" in response.content.decode()

    def test_status_changes_need_post(self, desk, booked):
        assert desk.get(self.url(booked, "status", "check-in")).status_code == 403

    def test_cancel_needs_a_reason(self, desk, booked):
        response = desk.post(self.url(booked, "cancel"), {"reason": ""})

        booked.refresh_from_db()
        assert "This field is required." in errors(response)
        assert booked.status == Status.BOOKED

    def test_cancelling_inside_the_window_is_late(self, desk, booked):
        response = desk.post(self.url(booked, "cancel"), {"reason": "Called in sick"})

        booked.refresh_from_db()
        assert response.status_code == 302
        assert booked.status == Status.LATE_CANCELLED
        assert booked.cancellation_reason == "Called in sick"

    def test_move_to_a_free_slot(self, desk, booked, location, myotherapist):
        new_start = at(TUESDAY, 14)

        response = desk.post(
            self.url(booked, "reschedule"),
            {
                "date": TUESDAY.isoformat(),
                "slot": slot_value(myotherapist.pk, location.pk, new_start),
                "move": "1",
            },
        )

        booked.refresh_from_db()
        assert response.status_code == 302
        assert booked.start == new_start
        assert booked.rescheduled_at is not None

    def test_moving_into_a_taken_slot_keeps_the_old_time(
        self, desk, booked, location, myotherapist, assessment, other_patient
    ):
        book_appointment(
            patient=other_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 14),
        )

        response = desk.post(
            self.url(booked, "reschedule"),
            {
                "date": TUESDAY.isoformat(),
                "slot": slot_value(myotherapist.pk, location.pk, at(TUESDAY, 14)),
                "move": "1",
            },
        )

        booked.refresh_from_db()
        assert "already booked" in errors(response)
        assert booked.start == at(TODAY, 10)

    def test_appointments_cannot_be_deleted(self, desk, booked):
        assert desk.get(self.url(booked, "delete")).status_code == 403


class TestList:
    def test_bulk_check_in_reports_each_refusal(
        self, desk, assessed_patient, new_patient, assessment, myotherapist
    ):
        first = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 10),
        )
        second = book_appointment(
            patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TODAY, 12)
        )
        second.status = Status.NO_SHOW
        second.save()

        response = desk.post(
            reverse("admin:appointments_appointment_changelist"),
            {"action": "check_in_selected", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )

        first.refresh_from_db()
        assert first.status == Status.CHECKED_IN
        assert "1 appointment(s) checked in." in response.content.decode()
        assert "cannot become checked in" in response.content.decode()

    def test_filters_by_day_status_location_and_practitioner(
        self, desk, assessed_patient, new_patient, assessment, myotherapist, second_myotherapist
    ):
        today = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 10),
        )
        tuesday = book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=second_myotherapist,
            start=at(TUESDAY, 10),
        )
        cancel_appointment(appointment=tuesday, by=None, online=True)

        def listed(query):
            page = desk.get(f"{LIST}?{query}", **ANY_DATE).content.decode()
            return {
                pk
                for pk in (today.pk, tuesday.pk)
                if f"/admin/appointments/appointment/{pk}/change/" in page
            }

        assert listed("") == {today.pk, tuesday.pk}
        assert listed("start__year=2027&start__month=3&start__day=22") == {today.pk}
        assert listed("status__exact=cancelled") == {tuesday.pk}
        assert listed(f"practitioner__id__exact={myotherapist.pk}") == {today.pk}
        assert listed(f"location__id__exact={today.location_id}") == {today.pk, tuesday.pk}

    def test_queries_do_not_grow_with_rows(self, desk, assessment, myotherapist, location):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert desk.get(LIST, **ANY_DATE).status_code == 200
            return len(captured)

        book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )
        few = queries()
        for day in range(2, 12):
            for hour in (9, 11, 13):
                book_appointment(
                    patient=PatientFactory(),
                    service=assessment,
                    practitioner=myotherapist,
                    start=at(TODAY + timedelta(days=day), hour),
                )
        many = queries()

        assert many == few


def test_the_patient_autocomplete_tells_namesakes_apart_by_birth_date(desk, db):
    PatientFactory(first_name="Sam", last_name="Lee", date_of_birth="1980-01-02")
    PatientFactory(first_name="Sam", last_name="Lee", date_of_birth="1991-12-30")

    response = desk.get(
        "/admin/autocomplete/",
        {
            "app_label": "appointments",
            "model_name": "appointment",
            "field_name": "patient",
            "term": "sam lee",
        },
    )

    labels = sorted(result["text"] for result in response.json()["results"])
    assert labels == ["Sam Lee (born 02/01/1980)", "Sam Lee (born 30/12/1991)"]


def test_the_day_shows_a_red_flag_marker_and_only_clinicians_see_why(
    desk, location, assessment, myotherapist, assessed_patient
):
    submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Back pain",
            "pain_score": 8,
            "duration": "acute",
            "activity": "new_runner",
            "red_flags": ["bladder_bowel_change"],
        },
        entered_by=None,
    )
    book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(TUESDAY, 10),
    )
    myotherapist.user.is_staff = True
    myotherapist.user.save()
    myotherapist.user.groups.add(sync_role_group("Practitioner"))
    practitioner = Client()
    practitioner.force_login(myotherapist.user)

    at_the_desk = desk.get(day_url(TUESDAY, location, assessment)).content.decode()
    in_the_room = practitioner.get(day_url(TUESDAY, location, assessment)).content.decode()

    assert 'class="red-flag"' in at_the_desk and "Bladder or bowel" not in at_the_desk
    assert 'class="red-flag"' in in_the_room and "Bladder or bowel changes" in in_the_room


def test_clinicians_write_the_note_from_the_appointment_and_reception_does_not(
    desk, assessed_patient, assessment, myotherapist
):
    appointment = book_appointment(
        patient=assessed_patient, service=assessment, practitioner=myotherapist, start=at(TODAY, 10)
    )
    check_in_appointment(appointment=appointment, by=None)
    myotherapist.user.is_staff = True
    myotherapist.user.save()
    myotherapist.user.groups.add(sync_role_group("Practitioner"))
    practitioner = Client()
    practitioner.force_login(myotherapist.user)
    page = reverse("admin:appointments_appointment_change", args=[appointment.pk])

    assert f"/admin/treatments/treatmentnote/add/?appointment={appointment.pk}" in (
        practitioner.get(page).content.decode()
    )
    assert "treatmentnote" not in desk.get(page).content.decode()
