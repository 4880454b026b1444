"""Admin list filters and "add" links read ids the one strict way (`whole_id`): "²" is a
digit to str.isdigit() but no id, "abc" is none either; each is an empty list or an
ignored preset, never a server error (issue 13, item 11)."""

import pytest

from tests.admin.conftest import admin_client, staff_member

pytestmark = pytest.mark.django_db

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
