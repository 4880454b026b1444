"""A treatment note's answer is written by hand (`TreatmentNoteSerializer.to_representation`):
it says exactly what DRF's walk over the serializer's fields said before — drafts and signed
notes, exercise logs with and without loads, addenda, a missing pain score — in lists, single
answers and the answers to changes. The `Previous...` serializers are those serializers as
they were, kept here as the oracle."""

import json
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from appointments.models import Appointment
from kernel.rest import ModelSerializer, NamedSerializer, ZonedDateTimeField
from tests.treatments.api_helpers import EXERCISES, NOTES
from treatments.api.common import ChoiceListField, NumberField
from treatments.models import (
    Addendum,
    ExerciseEntry,
    PostureFinding,
    SymptomLocation,
    TreatedRegion,
    TreatmentNote,
)
from treatments.selectors import notes_for
from treatments.services import add_addendum, sign_note, start_note, update_draft

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")


class PreviousExerciseSerializer(ModelSerializer):
    exercise = serializers.CharField(max_length=100)
    sets = serializers.IntegerField(min_value=0, max_value=50)
    reps = serializers.IntegerField(min_value=0, max_value=500)
    load_kg = NumberField(
        max_digits=5, decimal_places=1, min_value=Decimal("0"), required=False, allow_null=True
    )
    effort = serializers.IntegerField(min_value=1, max_value=10)
    guarded = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = ExerciseEntry
        fields = ["exercise", "sets", "reps", "load_kg", "effort", "guarded", "comment"]


class PreviousNoteAppointmentSerializer(ModelSerializer):
    service = serializers.CharField(source="service.name", read_only=True)
    location = serializers.CharField(source="location.name", read_only=True)
    start = ZonedDateTimeField(source="local_start", read_only=True)
    end = ZonedDateTimeField(source="local_end", read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "start", "end", "service", "location"]
        read_only_fields = fields


class PreviousAddendumSerializer(ModelSerializer):
    author = NamedSerializer(read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "author", "created_at", "text"]
        read_only_fields = fields


class PreviousTreatmentNoteSerializer(ModelSerializer):
    appointment = PreviousNoteAppointmentSerializer(read_only=True)
    patient = NamedSerializer(source="appointment.patient", read_only=True)
    author = NamedSerializer(read_only=True)
    status = serializers.SerializerMethodField()
    pain_locations = ChoiceListField(SymptomLocation, read_only=True)
    posture_findings = ChoiceListField(PostureFinding, read_only=True)
    regions_treated = ChoiceListField(TreatedRegion, read_only=True)
    exercises = PreviousExerciseSerializer(many=True, read_only=True)
    addenda = PreviousAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = TreatmentNote
        fields = [
            "id",
            "appointment",
            "patient",
            "author",
            "status",
            "subjective",
            "pain_score",
            "pain_locations",
            "posture_findings",
            "regions_treated",
            "objective",
            "assessment",
            "plan",
            "exercises",
            "addenda",
            "created_at",
            "updated_at",
            "signed_at",
        ]
        read_only_fields = fields

    def get_status(self, note):
        return "signed" if note.is_signed else "draft"


def as_json(data):
    return json.loads(JSONRenderer().render(data))


def previous_answers(user, **lookup):
    """The notes `user` reads, as the API answered them before (its queryset, its order)."""
    notes = notes_for(user).filter(**lookup).order_by("-appointment__start", "-pk")
    return as_json(PreviousTreatmentNoteSerializer(notes, many=True).data)


@pytest.fixture
def notes(signed, draft, sessions, myotherapist, coach):
    """A signed note with a log (a load and a fractional load) and two addenda by two
    practitioners, a draft with nothing but its subjective answer, and a signed note with
    every list answered and no pain score."""
    add_addendum(note=signed, author=myotherapist, text="Called: pain settled overnight.")
    add_addendum(note=signed, author=coach, text="NMPT next week.\nLoad \u2028 to 35 kg.")
    full = start_note(appointment=sessions[2], author=myotherapist)
    update_draft(
        note=full,
        author=myotherapist,
        changes={
            "subjective": "Zoë reports less pain — «better»",
            "pain_score": None,
            "pain_locations": ["lower_back", "leg_left"],
            "posture_findings": ["anterior_pelvic_tilt", "weak_glutes"],
            "regions_treated": ["piriformis", "hamstrings"],
            "objective": "SLR 60°",
            "assessment": "Improving",
            "plan": "Review in 2 weeks",
        },
        exercises=[
            {"exercise": "Bridge", "sets": 2, "reps": 15, "load_kg": None, "effort": 4},
            {"exercise": "Deadlift", "sets": 5, "reps": 3, "load_kg": Decimal("100"), "effort": 9},
        ],
    )
    return [signed, draft, sign_note(note=full, author=myotherapist)]


@pytest.mark.parametrize(
    ("client_name", "user_name"),
    [("as_practitioner", "myotherapist"), ("as_manager", "manager")],
    ids=["practitioner", "manager"],
)
def test_notes_are_answered_as_before(request, notes, client_name, user_name):
    client = request.getfixturevalue(client_name)
    user = request.getfixturevalue(user_name)
    user = getattr(user, "user", user)
    expected = previous_answers(user)

    listed = client.get(NOTES, {"page_size": 100}).json()["results"]
    one_by_one = [client.get(f"{NOTES}{note['id']}/").json() for note in expected]

    assert len(expected) == 3
    assert {note["status"] for note in expected} == {"draft", "signed"}
    assert listed == expected
    assert one_by_one == expected


def test_the_answers_to_changes_are_as_before(as_practitioner, myotherapist, sessions):
    user = myotherapist.user

    def previous(note_id):
        return previous_answers(user, pk=note_id)[0]

    started = as_practitioner.post(
        NOTES,
        {"appointment": sessions[2].pk, "subjective": "Stiff", "exercises": EXERCISES},
        format="json",
    ).json()
    assert started == previous(started["id"])

    edited = as_practitioner.patch(
        f"{NOTES}{started['id']}/", {"pain_score": 3, "exercises": []}, format="json"
    ).json()
    assert edited == previous(started["id"])

    signed = as_practitioner.post(f"{NOTES}{started['id']}/sign/").json()
    assert signed == previous(started["id"])

    addendum = as_practitioner.post(
        f"{NOTES}{started['id']}/addenda/", {"text": "Phoned: fine."}, format="json"
    ).json()
    added = Addendum.objects.select_related("author__user").get(pk=addendum["id"])
    assert addendum == as_json(PreviousAddendumSerializer(added).data)
