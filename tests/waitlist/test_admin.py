"""Reception's waitlist in the admin: the list, its filters, putting a patient on it and
ending entries, with Django's test client and the role groups' permissions."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY
from waitlist.models import EndReason, WaitlistEntry
from waitlist.services import Wish, join_waitlist

CHANGELIST = reverse("admin:waitlist_waitlistentry_changelist")
ADD = reverse("admin:waitlist_waitlistentry_add")
IN_A_MONTH = TODAY + timedelta(days=30)

pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.fixture
def waiting(assessed_patient, myotherapy, myotherapist, reception_staff_user):
    """The assessed patient, waiting urgently for the myotherapist on Tuesday mornings."""
    return join_waitlist(
        patient=assessed_patient,
        service=myotherapy,
        by=reception_staff_user,
        wish=Wish(
            latest_date=IN_A_MONTH,
            practitioners=[myotherapist],
            weekdays=[1],
            latest_time=time(12),
            urgent=True,
        ),
    )


@pytest.fixture
def waiting_for_anyone(myotherapy, reception_staff_user):
    return join_waitlist(
        patient=PatientFactory(first_name="Nell", last_name="Nobody"),
        service=myotherapy,
        by=reception_staff_user,
        wish=Wish(latest_date=IN_A_MONTH),
    )


def shown(response) -> list[WaitlistEntry]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("staff", ["reception_staff", "manager_staff"])
def test_the_front_desk_sees_the_waitlist_urgent_first(request, staff, waiting, waiting_for_anyone):
    response = request.getfixturevalue(staff).get(CHANGELIST)

    assert shown(response) == [waiting, waiting_for_anyone]
    page = response.content.decode()
    assert "Mia Myo" in page and "any" in page
    assert "Tue, until 12:00" in page and "any day" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"urgent__exact": "1"}, "waiting"),
        ({"practitioners__id__exact": "{myotherapist}"}, "waiting"),
        ({"open": "no"}, None),
    ],
)
def test_the_list_filters(
    reception_staff, waiting, waiting_for_anyone, myotherapist, query, expected
):
    query = {key: value.format(myotherapist=myotherapist.pk) for key, value in query.items()}

    entries = shown(reception_staff.get(CHANGELIST, query))

    assert entries == ([waiting] if expected else [])


@pytest.mark.parametrize(
    "query", ["?open=maybe", "?urgent__exact=banana", "?service__id__exact=x", "?o=99"]
)
def test_a_bad_query_string_is_no_server_error(reception_staff, waiting, query):
    assert reception_staff.get(CHANGELIST + query).status_code in {200, 302}


def test_reception_puts_a_patient_on_it_as_urgent(
    reception_staff, assessed_patient, myotherapy, myotherapist
):
    response = reception_staff.post(
        ADD,
        {
            "patient": assessed_patient.pk,
            "service": myotherapy.pk,
            "practitioners": [myotherapist.pk],
            "weekdays": ["0", "4"],
            "latest_date": IN_A_MONTH.isoformat(),
            "urgent": "on",
            "note": "Flare-up, call first",
        },
    )

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.urgent and entry.weekdays == [0, 4]
    assert entry.created_by == reception_staff.user


def test_the_form_shows_the_refusal_on_its_field(reception_staff, waiting, myotherapy):
    response = reception_staff.post(
        ADD,
        {
            "patient": waiting.patient_id,
            "service": myotherapy.pk,
            "latest_date": IN_A_MONTH.isoformat(),
            "earliest_time": "12:00",
            "latest_time": "11:00",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "latest_time": ["Must be later than the earliest time."]
    }
    assert WaitlistEntry.objects.count() == 1


def test_a_duplicate_is_refused_on_the_form(reception_staff, waiting, myotherapy):
    response = reception_staff.post(
        ADD,
        {
            "patient": waiting.patient_id,
            "service": myotherapy.pk,
            "latest_date": IN_A_MONTH.isoformat(),
        },
    )

    assert response.status_code == 200
    assert "already on the waitlist" in str(response.context["form"].non_field_errors())


def test_reception_ends_entries(reception_staff, waiting, waiting_for_anyone):
    response = reception_staff.post(
        CHANGELIST,
        {"action": "end_selected", "_selected_action": [waiting.pk], "index": "0"},
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    waiting_for_anyone.refresh_from_db()
    assert waiting.end_reason == EndReason.REMOVED_BY_STAFF
    assert waiting_for_anyone.ended_at is None


def test_a_practitioner_reads_the_entries_of_their_patients_only(
    practitioner_staff, waiting, waiting_for_anyone
):
    assert shown(practitioner_staff.get(CHANGELIST)) == [waiting]
    assert practitioner_staff.get(ADD).status_code == 403
    response = practitioner_staff.post(
        CHANGELIST,
        {"action": "end_selected", "_selected_action": [waiting.pk], "index": "0"},
    )
    waiting.refresh_from_db()
    assert waiting.ended_at is None and response.status_code == 200


def test_the_list_costs_the_same_for_many_entries(
    reception_staff, myotherapy, myotherapist, reception_staff_user, django_assert_max_num_queries
):
    for _ in range(5):
        join_waitlist(
            patient=PatientFactory(),
            service=myotherapy,
            by=reception_staff_user,
            wish=Wish(latest_date=IN_A_MONTH, practitioners=[myotherapist]),
        )

    with django_assert_max_num_queries(18):
        assert len(shown(reception_staff.get(CHANGELIST))) == 5
