"""Leave and rota changes in the admin over booked patients: the clashing bookings are listed
and nothing is saved until the manager decides (keep flagged, flag to move, cancel with
notices); the pages of working time stay the manager's."""

import pytest
from django.urls import reverse

from appointments.models import ClashDecision, Status
from notifications.models import Kind, Notification
from practice.models import Leave, WorkingHours
from tests.appointments.booking_helpers import TUESDAY
from tests.fixtures.clinic import at, book_consenting_to_email

pytestmark = pytest.mark.usefixtures("frozen_now")

LEAVE_ADD = reverse("admin:practice_leave_add")


@pytest.fixture
def booked(assessed_patient, myotherapy, myotherapist):
    return book_consenting_to_email(assessed_patient, myotherapy, myotherapist, at(TUESDAY, 10))


def leave_form(practitioner, **extra) -> dict:
    return {
        "practitioner": practitioner.pk,
        "start_0": TUESDAY.isoformat(),
        "start_1": "00:00:00",
        "end_0": TUESDAY.isoformat(),
        "end_1": "23:00:00",
        "reason": "Sick",
        **extra,
    }


def test_leave_over_a_booking_lists_it_and_saves_nothing(manager_staff, booked, myotherapist):
    response = manager_staff.post(LEAVE_ADD, leave_form(myotherapist))

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 booking(s) would be left outside" in page
    assert f"#{booked.pk}" in page and "Ari Assessed" in page
    assert not Leave.objects.exists()


def test_keep_saves_the_leave_and_flags_the_booking(manager_staff, booked, myotherapist):
    response = manager_staff.post(LEAVE_ADD, leave_form(myotherapist, clash_decision="keep"))

    booked.refresh_from_db()
    assert response.status_code == 302
    assert Leave.objects.count() == 1
    assert booked.status == Status.BOOKED and booked.clash_decision == ClashDecision.KEEP


def test_move_links_each_booking_to_its_move_page(manager_staff, booked, myotherapist):
    response = manager_staff.post(
        LEAVE_ADD, leave_form(myotherapist, clash_decision="move"), follow=True
    )

    booked.refresh_from_db()
    assert booked.clash_decision == ClashDecision.MOVE
    move = reverse("admin:appointments_appointment_reschedule", args=[booked.pk])
    assert f'href="{move}"' in response.content.decode()


def test_cancel_cancels_with_a_notice(manager_staff, booked, myotherapist):
    manager_staff.post(LEAVE_ADD, leave_form(myotherapist, clash_decision="cancel"))

    booked.refresh_from_db()
    assert booked.status in (Status.CANCELLED, Status.LATE_CANCELLED)
    assert Notification.objects.filter(appointment=booked, kind=Kind.CANCELLED).exists()


def test_a_rota_change_over_a_booking_asks_first(manager_staff, booked, myotherapist, location):
    line = WorkingHours.objects.get(practitioner=myotherapist, weekday=TUESDAY.weekday())
    url = reverse("admin:practice_workinghours_change", args=[line.pk])
    form = {
        "practitioner": myotherapist.pk,
        "location": location.pk,
        "weekday": line.weekday,
        "start_time": "12:00:00",
        "end_time": "17:00:00",
        "valid_from": "",
        "valid_until": "",
        "breaks-TOTAL_FORMS": "0",
        "breaks-INITIAL_FORMS": "0",
        "breaks-MIN_NUM_FORMS": "0",
        "breaks-MAX_NUM_FORMS": "1000",
    }

    asked = manager_staff.post(url, form)
    line.refresh_from_db()
    start_before_deciding = line.start_time
    decided = manager_staff.post(url, {**form, "clash_decision": "keep"})

    line.refresh_from_db()
    assert asked.status_code == 200 and f"#{booked.pk}" in asked.content.decode()
    assert start_before_deciding.hour == 9
    assert decided.status_code == 302 and line.start_time.hour == 12


def test_deleting_a_rota_line_under_bookings_is_refused(manager_staff, booked, myotherapist):
    line = WorkingHours.objects.get(practitioner=myotherapist, weekday=TUESDAY.weekday())
    url = reverse("admin:practice_workinghours_delete", args=[line.pk])

    response = manager_staff.post(url, {"post": "yes"}, follow=True)

    assert WorkingHours.objects.filter(pk=line.pk).exists()
    assert "Nothing was deleted" in response.content.decode()


@pytest.mark.parametrize("who", ["reception_staff", "practitioner_staff"])
def test_only_managers_change_working_time(request, who, booked, myotherapist):
    client = request.getfixturevalue(who)

    response = client.post(LEAVE_ADD, leave_form(myotherapist, clash_decision="cancel"))

    booked.refresh_from_db()
    assert response.status_code == 403
    assert not Leave.objects.exists() and booked.status == Status.BOOKED


# --- the flags: every clash shows in the day view, on the appointment and in the staff API


@pytest.fixture
def kept_over_leave(booked, myotherapist, manager_staff):
    manager_staff.post(LEAVE_ADD, leave_form(myotherapist, clash_decision="move"))
    return booked


@pytest.mark.parametrize("who", ["reception_staff", "manager_staff", "practitioner_staff"])
def test_the_day_view_flags_the_clash_with_a_move_link(request, who, kept_over_leave, location):
    client = request.getfixturevalue(who)
    day = reverse("admin:appointments_appointment_day")

    page = client.get(
        f"{day}?date={TUESDAY}&location={location.pk}&service={kept_over_leave.service_id}"
    ).content.decode()

    card = page.split(f'data-appointment="{kept_over_leave.pk}"')[1].split("</div>")[0]
    assert "Clash: The practitioner is on leave then. (to be moved)" in card
    move = reverse("admin:appointments_appointment_reschedule", args=[kept_over_leave.pk])
    assert f'href="{move}"' in card


def test_the_appointment_page_flags_the_clash(reception_staff, kept_over_leave):
    page = reception_staff.get(
        reverse("admin:appointments_appointment_change", args=[kept_over_leave.pk])
    ).content.decode()

    assert 'class="messagelist clash-notice"' in page
    assert "Clash: The practitioner is on leave then." in page


def test_a_clash_without_any_decision_is_flagged_too(
    reception_staff, booked, myotherapist, location
):
    # Leave written some other way (a script, an import) still shows on the booking.
    Leave.objects.create(practitioner=myotherapist, start=at(TUESDAY, 9), end=at(TUESDAY, 12))

    page = reception_staff.get(
        reverse("admin:appointments_appointment_change", args=[booked.pk])
    ).content.decode()

    assert "Clash: The practitioner is on leave then." in page


@pytest.mark.parametrize("who", ["as_reception", "as_practitioner", "as_manager"])
def test_staff_see_the_clash_in_the_api(request, who, kept_over_leave, fresh_throttles):
    client = request.getfixturevalue(who)

    one = client.get(f"/api/v1/appointments/{kept_over_leave.pk}/").json()
    listed = client.get("/api/v1/appointments/").json()["results"]

    assert one["clash"] == "The practitioner is on leave then."
    assert one["clash_decision"] == "move"
    assert [a["clash"] for a in listed if a["id"] == kept_over_leave.pk] == [one["clash"]]


def test_the_patient_sees_no_clash_flag(as_patient, kept_over_leave, fresh_throttles):
    answer = as_patient.get(f"/api/v1/appointments/{kept_over_leave.pk}/").json()

    assert answer["clash"] is None and answer["clash_decision"] is None
