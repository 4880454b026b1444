"""Reception's appointment book as a time grid (day and week), booking from an empty cell,
and the front desk's daily jobs: arrivals, tomorrow's calls to confirm, the day sheet, the
list opening on today — with Django's test client, as each role."""

import re
from datetime import time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment, ConfirmedVia, Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    confirm_appointment,
)
from diary.admin_forms import slot_value
from practice.models import Break, Leave
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    UserFactory,
)
from tests.fixtures.admin_clients import admin_client
from tests.fixtures.clinic import TODAY, at, make_coach, work_every_day

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = TODAY + timedelta(days=1)
DAY = reverse("admin:appointments_appointment_day")
WEEK = reverse("admin:appointments_appointment_week")
BOOK = reverse("admin:appointments_appointment_book")
ARRIVALS = reverse("admin:appointments_appointment_arrivals")
TO_CONFIRM = reverse("admin:appointments_appointment_to_confirm")
SHEET = reverse("admin:appointments_appointment_sheet")
LIST = reverse("admin:appointments_appointment_changelist")


def confirm_url(appointment) -> str:
    return reverse("admin:appointments_appointment_confirm", args=[appointment.pk])


def check_in_url(appointment) -> str:
    return reverse("admin:appointments_appointment_status", args=[appointment.pk, "check-in"])


@pytest.fixture
def viewer(db) -> Client:
    """Staff who may look at appointments and nothing more."""
    user = UserFactory(email="viewer@clinic.example", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_appointment", "view_patient"])
    )
    return admin_client(user)


def day_page(client, day=TUESDAY, **query) -> str:
    response = client.get(DAY, {"date": day.isoformat(), **query})
    assert response.status_code == 200
    return response.content.decode()


def block(page: str, appointment) -> re.Match:
    """An appointment's block: its classes, its inline placement, its content."""
    found = re.search(
        rf'<div class="appointment ([^"]*)" data-appointment="{appointment.pk}" '
        r'style="([^"]*)"[^>]*>(.*?)</div>',
        page,
        re.S,
    )
    assert found, f"no block for {appointment}"
    return found


def placement(style: str) -> dict[str, float]:
    return {name: float(value) for name, value in re.findall(r"--(\w+): ([\d.]+)", style)}


def lane(page: str, practitioner) -> str:
    return page.split(f'data-practitioner="{practitioner.pk}"')[1].split('<div class="lane')[0]


class TestTheDayGrid:
    def test_a_block_is_placed_by_its_start_and_sized_by_its_session_and_buffer(
        self, reception_staff, location, myotherapy, myotherapist, assessed_patient
    ):
        appointment = book_appointment(
            patient=assessed_patient,
            service=myotherapy,  # 45 minutes and a 15-minute buffer
            practitioner=myotherapist,
            start=at(TUESDAY, 11),
        )

        found = block(day_page(reception_staff, location=location.pk), appointment)

        # The rota starts at 9:00, the top row; a row is a quarter of an hour.
        assert placement(found.group(2)) == {"top": 8, "height": 4, "lane": 0, "lanes": 1}
        assert 'class="buffer" style="height: 25.0%"' in found.group(3)

    def test_breaks_leave_and_time_off_the_rota_are_shaded(
        self, reception_staff, location, assessment, myotherapist
    ):
        tuesday_line = myotherapist.rota.get(weekday=TUESDAY.weekday())
        Break.objects.create(working_hours=tuesday_line, start_time=time(12), end_time=time(13))
        Leave.objects.create(
            practitioner=myotherapist,
            start=at(TUESDAY, 15),
            end=at(TUESDAY, 17),
            reason="Dentist",
        )
        late_starter = PractitionerFactory(user__first_name="Lou", user__last_name="Late")
        work_every_day(late_starter, location, start=time(13))

        page = day_page(reception_staff, location=location.pk)

        mia, lou = lane(page, myotherapist), lane(page, late_starter)
        assert '<div class="shade break" style="--top: 12.0; --height: 4.0">Break</div>' in mia
        assert (
            '<div class="shade leave" style="--top: 24.0; --height: 8.0">Leave: Dentist</div>'
            in mia
        )
        assert (
            '<div class="shade off" style="--top: 0.0; --height: 16.0">Not on the rota</div>' in lou
        )
        # Nobody books into a break or leave from the grid.
        cells = re.findall(r'class="cell[^"]*" href="[^"]+" [^>]*>(\d\d:\d\d)</a>', mia)
        assert "12:00" not in cells and "15:30" not in cells and "11:45" in cells

    def test_blocks_say_their_status_in_words_and_colour(
        self, reception_staff, location, assessment, myotherapist, assessed_patient, new_patient
    ):
        confirmed = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 9),
        )
        confirm_appointment(appointment=confirmed, via=ConfirmedVia.SMS_REPLY)
        late = book_appointment(
            patient=new_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 11),
        )
        # Reception cancels inside the cancellation window: a late cancellation.
        cancel_appointment(appointment=late, by=None, reason="Sick")

        page = day_page(reception_staff, TODAY, location=location.pk)

        kept = block(page, confirmed)
        assert "status-booked confirmed" in kept.group(1)
        assert "&#10003; Booked, confirmed by the patient</span>" in kept.group(3)
        cancelled = block(page, late)
        assert "status-late_cancelled not-occupying" in cancelled.group(1)
        assert "&#10005; Late cancellation</span>" in cancelled.group(3)

    def test_a_block_is_a_link_that_reads_in_full(
        self, reception_staff, location, assessment, myotherapist, assessed_patient
    ):
        appointment = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        found = block(day_page(reception_staff, location=location.pk), appointment)

        link = re.search(r'<a class="block-link" href="([^"]+)">(.*?)</a>', found.group(3), re.S)
        assert link.group(1) == reverse(
            "admin:appointments_appointment_change", args=[appointment.pk]
        )
        words = re.sub(r"<[^>]+>|&middot;", " ", link.group(2))
        assert re.sub(r"\s+", " ", words).strip() == (
            f"10:00-11:00 Ari Assessed , Initial assessment {appointment.room.name}, Booked"
        )

    def test_new_patients_are_marked(
        self, reception_staff, location, assessment, myotherapist, assessed_patient, new_patient
    ):
        first_visit = book_appointment(
            patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TUESDAY, 9)
        )
        returning = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 11),
        )

        page = day_page(reception_staff, location=location.pk)

        assert "new patient" in block(page, first_visit).group(3)
        assert "new patient" not in block(page, returning).group(3)

    def test_rooms_side_by_side_show_the_gym_places(
        self, reception_staff, location, gym, nmpt, coach
    ):
        sessions = [
            AppointmentFactory(
                practitioner=who,
                service=nmpt,
                location=location,
                room=gym,
                room_place=place,
                start=at(TUESDAY, 10),
                status=Status.BOOKED,
            )
            for place, who in ((1, coach), (2, make_coach(location, gym, "Cora")))
        ]

        page = day_page(reception_staff, location=location.pk, by="room")

        assert f'data-column="room-{gym.pk}"' in page
        lanes = sorted(placement(block(page, s).group(2))["lane"] for s in sessions)
        assert lanes == [0, 1]
        assert {placement(block(page, s).group(2))["lanes"] for s in sessions} == {3}

    def test_all_locations_at_once(
        self, reception_staff, location, assessment, myotherapist, assessed_patient
    ):
        elsewhere = PractitionerFactory(user__first_name="Cy", user__last_name="Cbd")
        cbd = LocationFactory(name="CBD")
        RoomFactory(location=cbd)
        work_every_day(elsewhere, cbd)

        page = day_page(reception_staff, location="all")

        assert f'data-practitioner="{myotherapist.pk}"' in page
        assert f'data-practitioner="{elsewhere.pk}"' in page
        assert "All locations" in page

    def test_the_keys_and_the_patient_search_are_on_the_page(
        self, reception_staff, location, assessment
    ):
        page = day_page(reception_staff, location=location.pk)

        for key in ("previous", "today", "next"):
            assert f'data-key="{key}"' in page
        assert 'id="grid-patient-search"' in page
        assert '<script src="/static/diary/grid.js" defer></script>' in page

    def test_the_grid_prints(self, reception_staff, location, assessment):
        assert "@media print" in day_page(reception_staff, location=location.pk)

    def test_queries_do_not_grow_with_locations_rooms_bookings_or_practitioners(
        self, reception_staff, location, treatment_rooms, assessment, myotherapist
    ):
        def queries(**query):
            with CaptureQueriesContext(connection) as captured:
                day_page(reception_staff, **{"location": location.pk, **query})
            return len(captured)

        book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 9),
        )
        few, few_rooms, few_week = queries(), queries(by="room"), week_queries(reception_staff)
        few_everywhere = queries(location="all"), queries(location="all", by="room")
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
        Leave.objects.create(practitioner=myotherapist, start=at(TUESDAY, 16), end=at(TUESDAY, 17))
        cbd = LocationFactory(name="CBD")
        RoomFactory(location=cbd)
        elsewhere = PractitionerFactory()
        work_every_day(elsewhere, cbd)
        book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=elsewhere,
            start=at(TUESDAY, 9),
        )

        assert Appointment.objects.count() == 14
        assert (queries(), queries(by="room")) == (few, few_rooms)
        assert (queries(location="all"), queries(location="all", by="room")) == few_everywhere
        assert week_queries(reception_staff) == few_week


def week_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(WEEK, {"date": TUESDAY.isoformat()}).status_code == 200
    return len(captured)


class TestBookingFromTheGrid:
    def test_an_empty_cell_opens_the_booking_form_at_its_time(
        self, reception_staff, location, assessment, myotherapist
    ):
        page = day_page(reception_staff, location=location.pk, service=assessment.pk)
        cell = re.search(
            r'href="([^"]+)" style="[^"]*" aria-label="Book at 14:00 with Mia Myo', page
        )

        form = reception_staff.get(cell.group(1).replace("&amp;", "&")).content.decode()

        chosen = slot_value(myotherapist.pk, location.pk, at(TUESDAY, 14))
        assert re.search(rf'value="{chosen}"[^>]*checked', form)
        # Only the patient is left to choose: their search opens by itself.
        assert "diary/book_from_cell.js" in form

    def test_a_cell_where_the_service_does_not_fit_offers_the_nearest_free_start(
        self, reception_staff, location, assessment, myotherapist, assessed_patient
    ):
        book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 11),
        )
        # 10:30: an hour's assessment would run into the 11:00 booking.
        page = day_page(reception_staff, location=location.pk, service=assessment.pk)
        cell = re.search(
            r'href="([^"]+)" style="[^"]*" aria-label="Book at 10:30 with Mia Myo', page
        )

        form = reception_staff.get(cell.group(1).replace("&amp;", "&")).content.decode()

        nearest = slot_value(myotherapist.pk, location.pk, at(TUESDAY, 10))
        assert re.search(rf'value="{nearest}"[^>]*checked', form)

    def test_a_viewer_sees_no_cells_and_may_not_book(
        self, viewer, location, assessment, myotherapist
    ):
        page = day_page(viewer, location=location.pk)

        assert 'class="cell' not in page
        assert viewer.get(BOOK).status_code == 403

    def test_move_is_offered_on_a_booked_block(
        self, reception_staff, location, assessment, myotherapist, assessed_patient
    ):
        appointment = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        found = block(day_page(reception_staff, location=location.pk), appointment)

        move = re.search(r'<a class="move" href="([^"]+)">Move</a>', found.group(3)).group(1)
        form = reception_staff.get(move.replace("&amp;", "&")).content.decode()
        # The free slots of the appointment's day, for its service, at once.
        two_pm = slot_value(myotherapist.pk, location.pk, at(TUESDAY, 14))
        assert f'value="{two_pm}"' in form


class TestTheWeek:
    def test_a_practitioners_week_has_a_column_a_day_with_their_bookings(
        self, reception_staff, location, assessment, myotherapist, assessed_patient
    ):
        thursday = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY + timedelta(days=3), 10),
        )

        page = reception_staff.get(
            WEEK, {"practitioner": myotherapist.pk, "date": TUESDAY.isoformat()}
        ).content.decode()

        days = re.findall(r'data-column="day-([\d-]+)"', page)
        assert days == [(TODAY + timedelta(days=n)).isoformat() for n in range(7)]
        thursday_lane = page.split(f'data-column="day-{TODAY + timedelta(days=3)}"')[1]
        assert f'data-appointment="{thursday.pk}"' in thursday_lane.split('<div class="lane')[0]
        assert 'data-key="next"' in page and f"date={TODAY + timedelta(days=7)}" in page

    def test_a_rooms_week(
        self, reception_staff, location, treatment_rooms, assessment, myotherapist, assessed_patient
    ):
        appointment = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 10),
        )

        page = reception_staff.get(
            WEEK, {"room": appointment.room_id, "date": TUESDAY.isoformat()}
        ).content.decode()

        assert f'data-appointment="{appointment.pk}"' in page
        assert 'class="cell' not in page  # the scheduling core chooses rooms

    def test_a_clinic_with_rooms_and_no_practitioner_yet_shows_a_rooms_week(
        self, reception_staff, assessment, treatment_rooms
    ):
        response = reception_staff.get(WEEK, {"practitioner": "1", "room": ""})

        assert response.status_code == 200
        assert f"{treatment_rooms[0]}" in response.content.decode()


class TestArrivals:
    @pytest.fixture
    def expected(self, location, assessment, myotherapist, assessed_patient, new_patient):
        return [
            book_appointment(
                patient=patient, service=assessment, practitioner=myotherapist, start=at(day, 10)
            )
            for patient, day in ((assessed_patient, TODAY), (new_patient, TUESDAY))
        ]

    def test_lists_todays_arrivals_only(self, reception_staff, expected):
        today, tuesday = expected

        page = reception_staff.get(ARRIVALS).content.decode()

        assert f'data-appointment="{today.pk}"' in page
        assert f'data-appointment="{tuesday.pk}"' not in page

    def test_check_in_with_one_click_and_back_to_the_list(self, reception_staff, expected):
        today, _ = expected

        with time_machine.travel(at(TODAY, 9, 55), tick=False):
            response = reception_staff.post(check_in_url(today), {"next": ARRIVALS})

        assert response.status_code == 302 and response["Location"] == ARRIVALS
        today.refresh_from_db()
        assert today.status == Status.CHECKED_IN

    def test_next_elsewhere_is_not_followed(self, reception_staff, expected):
        today, _ = expected

        response = reception_staff.post(check_in_url(today), {"next": "https://evil.example/"})

        assert response["Location"] == reverse(
            "admin:appointments_appointment_change", args=[today.pk]
        )

    def test_a_viewer_gets_no_buttons_and_may_not_check_in(self, viewer, expected):
        today, _ = expected

        page = viewer.get(ARRIVALS)

        assert page.status_code == 200 and 'class="button check-in"' not in page.content.decode()
        assert viewer.post(check_in_url(today), {"next": ARRIVALS}).status_code == 403
        today.refresh_from_db()
        assert today.status == Status.BOOKED


class TestToConfirm:
    @pytest.fixture
    def tomorrows(self, location, assessment, myotherapist, assessed_patient, new_patient):
        unconfirmed = book_appointment(
            patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TUESDAY, 9)
        )
        confirmed = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY, 11),
        )
        confirm_appointment(appointment=confirmed, via=ConfirmedVia.LINK)
        return unconfirmed, confirmed

    def test_lists_tomorrows_bookings_not_yet_confirmed(self, reception_staff, tomorrows):
        unconfirmed, confirmed = tomorrows

        page = reception_staff.get(TO_CONFIRM).content.decode()

        assert f'data-appointment="{unconfirmed.pk}"' in page
        assert f'data-appointment="{confirmed.pk}"' not in page

    @pytest.mark.parametrize("who", ["reception_staff", "manager_staff"])
    def test_confirmed_on_the_phone(self, request, who, tomorrows):
        unconfirmed, _ = tomorrows

        response = request.getfixturevalue(who).post(
            confirm_url(unconfirmed), {"next": TO_CONFIRM}, follow=True
        )

        unconfirmed.refresh_from_db()
        assert unconfirmed.confirmed_via == ConfirmedVia.RECEPTION
        assert unconfirmed.updated_by is not None
        assert f'data-appointment="{unconfirmed.pk}"' not in response.content.decode()

    def test_a_refusal_is_a_message_not_an_error_page(self, reception_staff, tomorrows):
        unconfirmed, _ = tomorrows
        cancel_appointment(appointment=unconfirmed, by=None, reason="Away")

        response = reception_staff.post(confirm_url(unconfirmed), {"next": TO_CONFIRM}, follow=True)

        assert response.status_code == 200
        assert "Only a booked appointment that has not started can be confirmed." in (
            response.content.decode()
        )

    def test_a_viewer_may_not_confirm_and_nobody_confirms_by_get(
        self, viewer, reception_staff, tomorrows
    ):
        unconfirmed, _ = tomorrows

        assert "Confirmed on the phone" not in viewer.get(TO_CONFIRM).content.decode()
        assert viewer.post(confirm_url(unconfirmed)).status_code == 403
        assert reception_staff.get(confirm_url(unconfirmed)).status_code == 403
        unconfirmed.refresh_from_db()
        assert unconfirmed.confirmed_at is None


class TestTheDaySheet:
    def test_a_practitioners_day_on_paper(
        self, reception_staff, location, assessment, myotherapist, second_myotherapist, new_patient
    ):
        mine = book_appointment(
            patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TODAY, 10)
        )
        theirs = book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=second_myotherapist,
            start=at(TODAY, 10),
        )

        page = reception_staff.get(SHEET, {"practitioner": myotherapist.pk}).content.decode()

        assert f'data-appointment="{mine.pk}"' in page
        assert f'data-appointment="{theirs.pk}"' not in page
        assert "(new patient)" in page
        assert "@media print" in page


class TestTheListOpensOnToday:
    def test_the_bare_list_goes_to_today(self, reception_staff):
        response = reception_staff.get(LIST)

        assert response.status_code == 302
        assert response["Location"] == (
            f"{LIST}?start__gte=2027-03-22+00%3A00%3A00%2B11%3A00"
            "&start__lt=2027-03-23+00%3A00%3A00%2B11%3A00"
        )

    def test_todays_list_shows_today_in_order(
        self, reception_staff, location, assessment, myotherapist, assessed_patient, new_patient
    ):
        later = book_appointment(
            patient=assessed_patient,
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 14),
        )
        earlier = book_appointment(
            patient=new_patient, service=assessment, practitioner=myotherapist, start=at(TODAY, 10)
        )
        AppointmentFactory(start=at(TUESDAY, 10))

        listed = reception_staff.get(LIST, follow=True).context["cl"].result_list

        assert list(listed) == [earlier, later]

    def test_any_date_from_inside_the_list_stays(self, reception_staff):
        response = reception_staff.get(LIST, HTTP_REFERER=f"http://testserver{LIST}")

        assert response.status_code == 200
