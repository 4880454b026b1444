"""Admin list filters and "add" links read ids the one strict way (`whole_id`): "²" is a
digit to str.isdigit() but no id, "abc" is none either; each is an empty list or an
ignored preset, never a server error (issue 13, item 11)."""

import pytest

from tests.fixtures.admin_clients import admin_client, staff_member

pytestmark = [pytest.mark.usefixtures("frozen_now"), pytest.mark.django_db]

NOT_IDS = ["²", "abc", "1.5", "99999999999999999999"]


@pytest.fixture
def manager():
    client = admin_client(staff_member("boss@clinic.example", "Manager"))
    client.raise_request_exception = False
    return client


@pytest.fixture
def desk():
    client = admin_client(staff_member("desk@clinic.example", "Reception"))
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("value", NOT_IDS)
def test_the_appointment_list_by_practitioner_is_empty_for_a_non_id(desk, value):
    answer = desk.get("/admin/appointments/appointment/", {"practitioner__id__exact": value})

    assert answer.status_code == 200
    assert list(answer.context["cl"].result_list) == []


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize(
    ("changelist", "parameter"),
    [
        ("treatments/intake", "patient"),
        ("treatments/treatmentnote", "patient"),
        ("treatments/outcomemeasure", "patient"),
        ("treatments/treatmentnote", "author"),
    ],
)
def test_clinical_lists_filtered_by_a_non_id_answer(manager, changelist, parameter, value):
    answer = manager.get(f"/admin/{changelist}/", {parameter: value})

    assert answer.status_code == 200


@pytest.mark.parametrize("value", NOT_IDS)
def test_an_add_link_with_a_non_id_patient_presets_nobody(myotherapist, value):
    clinician = admin_client(staff_member("", "Practitioner", user=myotherapist.user))
    clinician.raise_request_exception = False

    answer = clinician.get("/admin/treatments/outcomemeasure/add/", {"patient": value})

    assert answer.status_code == 200
    assert answer.context["adminform"].form.initial.get("patient") is None


@pytest.fixture
def root():
    client = admin_client(staff_member("root@clinic.example", "Manager", is_superuser=True))
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    "query",
    [
        "start__lt=0001-01-01",  # before year 1 in UTC
        "start__gte=0200-05-31",  # a naive moment
        "start__gte=2027-03-22 00:00:00%2B11:00&start__lt=9999-12-31",
        "start__year=9999&start__month=12",  # the next month does not exist
        "start__year=9999",
        "start__year=1",
        "start__year=abc&start__month=1",
    ],
)
def test_dates_in_a_changelist_outside_the_calendar_are_not_a_server_error(root, query):
    answer = root.get(f"/admin/appointments/appointment/?{query}")

    assert answer.status_code == 302 and answer["Location"].endswith("?e=1")


def test_a_package_admins_date_filter_is_read_the_same_way(root):
    answer = root.get("/admin/otp_totp/totpdevice/?created_at__lt=0001-01-01")

    assert answer.status_code == 302 and answer["Location"].endswith("?e=1")


def test_a_date_filter_inside_the_calendar_still_filters(root):
    answer = root.get("/admin/appointments/appointment/?start__gte=2027-03-22&start__lt=2027-03-23")

    assert answer.status_code == 200


def test_an_add_form_ignores_a_query_value_its_field_cannot_read(root, myotherapist):
    answer = root.get("/admin/practice/leave/add/", {"start": "7433-04-16", "reason": "Away"})

    assert answer.status_code == 200
    assert answer.context["adminform"].form.initial == {"reason": "Away"}


def test_the_booking_form_drops_a_patient_that_is_not_an_id(root):
    answer = root.get("/admin/appointments/appointment/book/", {"patient": "0001-01-01"})

    assert answer.status_code == 200
    assert "patient" not in answer.context["form"].initial


def test_a_package_admins_date_hierarchy_stays_in_the_calendar(root):
    answer = root.get("/admin/axes/accessattempt/?attempt_time__year=9999&attempt_time__month=12")

    assert answer.status_code == 302 and answer["Location"].endswith("?e=1")
