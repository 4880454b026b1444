"""Lists read their first page before their count: a first page that is not full says the
count, so a list that fits on one page costs one query fewer; a longer list, and any later
page, is counted first as before, and pages out of range are refused as before."""

from datetime import timedelta

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from kernel.pagination import PagedRows, PageFirstPaginator
from tests.factories import AppointmentFactory, LocationFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

LOCATIONS = "/api/v1/locations/"


@pytest.fixture
def five(db):
    return LocationFactory.create_batch(5)


def counts(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LOCATIONS, params)
    statements = [query["sql"] for query in captured]
    return response, sum(sql.startswith("SELECT COUNT(*)") for sql in statements)


@pytest.mark.parametrize(
    ("params", "count_queries", "shown", "next_page"),
    [
        ({}, 0, 5, None),  # the whole list on the first page
        ({"page_size": 2}, 1, 2, 2),  # a full page: counted
        ({"page_size": 2, "page": 3}, 1, 1, None),  # a later page: counted first
        ({"page_size": 5}, 1, 5, None),  # exactly full: counted, no next page
        ({"page_size": 2, "page": "last"}, 1, 1, None),
    ],
)
def test_the_count_is_read_only_when_the_page_cannot_tell_it(
    anonymous, five, params, count_queries, shown, next_page
):
    response, count_statements = counts(anonymous, params)
    body = response.json()

    assert response.status_code == 200
    assert (body["count"], len(body["results"])) == (5, shown)
    assert count_statements == count_queries
    assert (f"page={next_page}" in body["next"]) if next_page else body["next"] is None


@pytest.mark.parametrize("page", ["4", "0", "-1", "x", "1.5", "99999999999999999999"])
def test_pages_out_of_range_or_not_numbers_are_404_as_before(anonymous, five, page):
    response = anonymous.get(LOCATIONS, {"page_size": 2, "page": page})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_empty_list_is_one_empty_page(anonymous, db):
    body = anonymous.get(LOCATIONS).json()

    assert (body["count"], body["results"], body["next"]) == (0, [], None)


@pytest.mark.django_db
def test_the_paginator_tells_what_djangos_tells(location, myotherapist, assessed_patient):
    for day in range(1, 8):
        AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            location=location,
            room=location.rooms.first(),
            start=at(TODAY - timedelta(days=day), 9),
        )
    appointments = Appointment.objects.order_by("start", "pk")

    for per_page in (1, 3, 8, 20):
        for number in range(1, 10):
            paginator = PageFirstPaginator(appointments, per_page)
            try:
                page = paginator.page(number)
            except EmptyPage:
                assert number > -(-appointments.count() // per_page)
                continue
            assert list(page) == list(appointments[(number - 1) * per_page :][:per_page])
            assert paginator.count == appointments.count() == 8
            assert page.has_next() == (number * per_page < 8)

    with pytest.raises(PageNotAnInteger):
        PageFirstPaginator(appointments, 3).page("two")


@pytest.mark.django_db
def test_rows_are_counted_as_their_queryset_without_the_joins_of_their_columns(
    location, myotherapist, assessed_patient
):
    for day in range(1, 4):
        AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            location=location,
            room=location.rooms.first(),
            start=at(TODAY - timedelta(days=day), 9),
        )
    appointments = Appointment.objects.order_by("-start", "pk")
    paginator = PageFirstPaginator(PagedRows(appointments, ["id", "patient__last_name"]), 2)

    with CaptureQueriesContext(connection) as captured:
        page = paginator.page(1)

    assert list(page) == list(appointments.values("id", "patient__last_name")[:2])
    assert paginator.count == 4  # with the assessment
    count, rows = [query["sql"] for query in captured][::-1]
    assert "JOIN" in rows and "JOIN" not in count


@pytest.mark.django_db
def test_a_page_past_any_list_is_404_not_a_database_error(as_reception):
    response = as_reception.get("/api/v1/patients/", {"page": 10**18})

    assert response.status_code == 404
