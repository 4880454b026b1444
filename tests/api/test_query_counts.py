"""Every list endpoint reads a fixed number of queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    ServiceFactory,
    WorkingHoursFactory,
)


def add_practitioners(count):
    for _ in range(count):
        practitioner = PractitionerFactory()
        WorkingHoursFactory(practitioner=practitioner, location=LocationFactory())


@pytest.mark.parametrize(
    ("path", "client_name", "add_rows"),
    [
        ("/api/v1/locations/", "anonymous", lambda n: LocationFactory.create_batch(n)),
        ("/api/v1/services/", "anonymous", lambda n: ServiceFactory.create_batch(n)),
        ("/api/v1/practitioners/", "anonymous", add_practitioners),
        ("/api/v1/patients/", "as_reception", lambda n: PatientFactory.create_batch(n)),
    ],
)
@pytest.mark.django_db
def test_list_queries_do_not_grow_with_rows(request, path, client_name, add_rows):
    client = request.getfixturevalue(client_name)

    def queries_and_count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    add_rows(2)
    few_queries, few = queries_and_count()
    add_rows(25)
    many_queries, many = queries_and_count()

    assert many == few + 25
    assert many_queries == few_queries
