from datetime import timedelta

import pytest

from tests.factories import ServiceFactory
from tests.fixtures.clinic import TODAY

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

TUESDAY = TODAY + timedelta(days=1)
AVAILABILITY = "/api/v1/availability/"


class TestCatalogue:
    def test_locations_are_public(self, anonymous, location):
        response = anonymous.get("/api/v1/locations/")

        assert response.status_code == 200
        assert response.json()["results"] == [
            {
                "id": location.pk,
                "name": "Richmond",
                "address": "",
                "phone": "",
                "time_zone": "Australia/Melbourne",
            }
        ]

    def test_the_public_sees_only_services_bookable_online(
        self, anonymous, as_reception, assessment
    ):
        phone_only = ServiceFactory(name="Sciatica consult", bookable_online=False)

        public = {s["name"] for s in anonymous.get("/api/v1/services/").json()["results"]}
        staff = {s["name"] for s in as_reception.get("/api/v1/services/").json()["results"]}

        assert public == {"Initial assessment"}
        assert staff == {"Initial assessment", phone_only.name}

    def test_practitioner_profiles_hold_no_private_data(
        self, anonymous, myotherapist, assessment, myotherapy, location
    ):
        profile = anonymous.get("/api/v1/practitioners/").json()["results"][0]

        assert profile == {
            "id": myotherapist.pk,
            "name": "Mia Myo",
            "title": "Myotherapist",
            "bio": "",
            "disciplines": ["myotherapy"],
            "services": sorted([assessment.pk, myotherapy.pk]),
            "locations": [location.pk],
        }
        assert myotherapist.user.email not in str(profile)

    def test_catalogue_lists_are_paginated(self, anonymous, location):
        body = anonymous.get("/api/v1/locations/").json()

        assert set(body) == {"count", "next", "previous", "results"}


class TestAvailability:
    def query(self, client, **params):
        return client.get(AVAILABILITY, params)

    def test_slots_carry_the_location_offset(self, anonymous, assessment, myotherapist, location):
        response = self.query(anonymous, service=assessment.pk, **{"from": TUESDAY, "to": TUESDAY})

        slots = response.json()["slots"]
        assert response.status_code == 200
        assert slots[0] == {
            "start": "2027-03-23T09:00:00+11:00",
            "end": "2027-03-23T10:00:00+11:00",
            "practitioner": myotherapist.pk,
            "location": location.pk,
        }

    def test_the_public_gets_the_online_rules_and_staff_do_not(
        self, anonymous, as_reception, assessment, myotherapist
    ):
        params = {"service": assessment.pk, "from": TODAY, "to": TODAY}

        public = self.query(anonymous, **params).json()["slots"]
        staff = self.query(as_reception, **params).json()["slots"]

        assert public[0]["start"] == "2027-03-22T10:00:00+11:00"  # two hours' lead time
        assert staff[0]["start"] == "2027-03-22T09:00:00+11:00"

    def test_filters_by_practitioner(
        self, anonymous, assessment, myotherapist, second_myotherapist
    ):
        slots = self.query(
            anonymous,
            service=assessment.pk,
            practitioner=second_myotherapist.pk,
            **{"from": TUESDAY, "to": TUESDAY},
        ).json()["slots"]

        assert {s["practitioner"] for s in slots} == {second_myotherapist.pk}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "2027-03-23", "to": "2027-04-23"}, "to"),  # 32 days
            ({"from": "2027-03-25", "to": "2027-03-23"}, "to"),
            ({"from": "23/03/2027", "to": "2027-03-23"}, "from"),
            ({"from": "2027-03-23"}, "to"),
            ({"service": 999999, "from": "2027-03-23", "to": "2027-03-23"}, "service"),
            ({"service": "abc", "from": "2027-03-23", "to": "2027-03-23"}, "service"),
            ({"practitioner": 999999, "from": "2027-03-23", "to": "2027-03-23"}, "practitioner"),
            ({"location": 999999, "from": "2027-03-23", "to": "2027-03-23"}, "location"),
        ],
    )
    def test_bad_queries_are_400_naming_the_field(self, anonymous, assessment, params, field):
        params.setdefault("service", assessment.pk)

        response = self.query(anonymous, **params)

        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert field in response.json()["fields"]

    def test_a_thirty_one_day_window_is_fine(self, anonymous, assessment, myotherapist):
        response = self.query(
            anonymous, service=assessment.pk, **{"from": "2027-03-23", "to": "2027-04-22"}
        )

        assert response.status_code == 200
        days = {s["start"][:10] for s in response.json()["slots"]}
        assert len(days) == 31

    def test_the_public_cannot_ask_for_a_service_not_bookable_online(self, anonymous, myotherapist):
        phone_only = ServiceFactory(bookable_online=False)

        response = self.query(anonymous, service=phone_only.pk, **{"from": TUESDAY, "to": TUESDAY})

        assert response.status_code == 400 and "service" in response.json()["fields"]

    def test_slots_never_reveal_who_booked(
        self, anonymous, as_patient, assessment, myotherapist, assessed_patient
    ):
        as_patient.post(
            "/api/v1/appointments/",
            {
                "service": assessment.pk,
                "practitioner": myotherapist.pk,
                "start": f"{TUESDAY}T10:00:00+11:00",
            },
        )

        body = self.query(anonymous, service=assessment.pk, **{"from": TUESDAY, "to": TUESDAY})

        assert assessed_patient.last_name not in body.content.decode()
        assert "patient" not in body.json()["slots"][0]
        starts = {s["start"] for s in body.json()["slots"]}
        assert f"{TUESDAY}T10:00:00+11:00" not in starts
