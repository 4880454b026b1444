"""`NamedSerializer` writes a related record by hand: what DRF's walk over its two fields
gives, for every kind of record the API names."""

import pytest
from rest_framework import serializers

from kernel.rest import NamedSerializer
from tests.factories import LocationFactory, PatientFactory, PractitionerFactory, ServiceFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        lambda: PatientFactory(first_name="Zoë", last_name="Ng"),
        lambda: PractitionerFactory(user__first_name="Mia", user__last_name="Myo"),
        lambda: PractitionerFactory(user__first_name="", user__last_name=""),  # by email
        lambda: LocationFactory(name="Richmond"),
        lambda: ServiceFactory(name="Myotherapy 45"),
    ],
    ids=["patient", "practitioner", "practitioner by email", "location", "service"],
)
def test_the_same_as_drfs_walk_over_its_fields(make):
    record = make()
    named = NamedSerializer()

    assert named.to_representation(record) == serializers.Serializer.to_representation(
        named, record
    )
