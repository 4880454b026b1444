"""What the API's clinical-record tests share: the endpoints, the answers they send and the
sessions they book."""

from datetime import timedelta

from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at

NOTES = "/api/v1/treatment-notes/"
PLANS = "/api/v1/treatment-plans/"
OUTCOMES = "/api/v1/outcome-measures/"
INTAKES = "/api/v1/intakes/"
MY_INTAKE = "/api/v1/patients/me/intake/"

EXERCISES = [
    {
        "exercise": "Goblet squat",
        "sets": 3,
        "reps": 10,
        "load_kg": 16,
        "effort": 6,
        "guarded": False,
        "comment": "",
    },
    {
        "exercise": "Romanian deadlift",
        "sets": 3,
        "reps": 8,
        "load_kg": "30.5",
        "effort": 7,
        "guarded": True,
        "comment": "Stopped short of full range",
    },
]
INTAKE_ANSWERS = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles", "sharp_pain_down_leg"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Run a half marathon pain-free",
}
ODI_ONE_UNANSWERED = [2, 1, 3, 2, 1, 1, 0, None, 1, 3]  # 14 / 45 = 31.1 %


def progress_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/progress/"


def session_of(patient, practitioner, myotherapy, location, room, days_ago, hour=10, **extra):
    """A completed session `days_ago` days before the frozen today."""
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=myotherapy,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), hour),
        **extra,
    )
