"""Forms of the clinical admin: they collect input; `treatments.services` decide.

Patients offered are only those whose records the user may read (`clinical_patients_for`),
so a practitioner cannot pick, or post, anyone they do not treat.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime, AutocompleteSelect
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment
from kernel.admin_query import CalendarDateField

from .instruments import PSFS_ACTIVITY_LENGTH, PSFS_MAX_ACTIVITIES, RMDQ_ITEMS
from .measures import answer_problems, scoring_problem
from .models import ODI_SECTIONS, OutcomeMeasure, Phase, TreatmentPlan
from .outcomes_report import GroupBy, default_period
from .selectors import clinical_patients_for, sessions_to_write_up_for

# A new plan's phases as the clinic usually plans them: (sessions, sessions a week).
DEFAULT_PHASES = {
    Phase.ASSESS: (1, Decimal("1")),
    Phase.RELEASE: (4, Decimal("1")),
    Phase.STRENGTHEN: (8, Decimal("2")),
    Phase.MAINTAIN: (6, Decimal("0.2")),
}
ODI_LABELS = {
    "pain_intensity": "1. Pain intensity",
    "personal_care": "2. Personal care (washing, dressing)",
    "lifting": "3. Lifting",
    "walking": "4. Walking",
    "sitting": "5. Sitting",
    "standing": "6. Standing",
    "sleeping": "7. Sleeping",
    "sex_life": "8. Sex life (if applicable)",
    "social_life": "9. Social life",
    "travelling": "10. Travelling",
}
# Where the form shows a problem with each answer: the questionnaires' items share one.
FIELD_OF_ANSWER = {"value": "pain", "odi_answers": None, "rmdq_answers": None, "psfs": None}
# The Roland-Morris statements by their number on the paper form the patient filled in.
RMDQ_FIELDS = [f"rmdq_{number}" for number in range(1, RMDQ_ITEMS + 1)]
RMDQ_CHOICES = [("", "not answered"), ("yes", "yes"), ("no", "no")]
PSFS_ROWS = range(1, PSFS_MAX_ACTIVITIES + 1)
PSFS_FIELDS = [name for row in PSFS_ROWS for name in (f"psfs_activity_{row}", f"psfs_score_{row}")]
ODI_CHOICES = [("", "not answered"), *((str(score), str(score)) for score in range(6))]


def patient_field(user: User, model) -> forms.ModelChoiceField:
    """The patients whose records `user` may read, searched like the patient list."""
    return forms.ModelChoiceField(
        queryset=clinical_patients_for(user),
        widget=AutocompleteSelect(model._meta.get_field("patient"), admin.site),
    )


class ClearanceForm(forms.Form):
    cleared_on = forms.DateField(
        label="Cleared on",
        widget=AdminDateWidget,
        help_text="When the patient was cleared, e.g. the day their GP saw them.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Who cleared the patient and what was found.",
    )

    def clean_cleared_on(self):
        day = self.cleaned_data["cleared_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("A clearance is recorded once it has happened.")
        return day


class PlanStartForm(forms.Form):
    """A new course of care: goals, the maintenance interval and each phase's sessions."""

    goals = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    maintenance_interval_weeks = forms.IntegerField(
        min_value=1,
        max_value=52,
        initial=6,
        label="Maintenance interval (weeks)",
        help_text="In the maintenance phase, how often the patient should come back.",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"patient": patient_field(user, TreatmentPlan), **self.fields}
        for phase in Phase:
            sessions, per_week = DEFAULT_PHASES[phase]
            self.fields[f"{phase}_sessions"] = forms.IntegerField(
                min_value=0, max_value=100, required=False, initial=sessions
            )
            self.fields[f"{phase}_per_week"] = forms.DecimalField(
                min_value=Decimal("0.1"),
                max_value=Decimal("7"),
                decimal_places=1,
                required=False,
                initial=per_week,
            )

    def main_fields(self) -> list:
        return [self["patient"], self["goals"], self["maintenance_interval_weeks"]]

    def phase_rows(self) -> list[dict]:
        """For the template: one row per phase of the pathway."""
        return [
            {
                "label": phase.label,
                "sessions": self[f"{phase}_sessions"],
                "per_week": self[f"{phase}_per_week"],
            }
            for phase in Phase
        ]

    def clean(self):
        cleaned = super().clean()
        for phase in Phase:
            if cleaned.get(f"{phase}_sessions") and cleaned.get(f"{phase}_per_week") is None:
                self.add_error(f"{phase}_per_week", "How many sessions a week?")
        return cleaned

    def phases(self) -> list[dict]:
        """The phases to plan, in the pathway's order; a phase without sessions is left out."""
        return [
            {
                "phase": phase,
                "planned_sessions": self.cleaned_data[f"{phase}_sessions"],
                "sessions_per_week": self.cleaned_data[f"{phase}_per_week"],
            }
            for phase in Phase
            if self.cleaned_data.get(f"{phase}_sessions")
        ]


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, appointment: Appointment) -> str:
        return (
            f"{appointment.local_start:%a %d %b %Y %H:%M} · {appointment.patient} · "
            f"{appointment.service}"
        )


class NoteStartForm(forms.Form):
    """The session a practitioner writes up: one of theirs that can carry a note
    (`sessions_to_write_up_for`, as the API asks) and has none yet, latest first."""

    appointment = SessionChoiceField(
        queryset=Appointment.objects.none(),
        label="Session",
        empty_label=None,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = (
            sessions_to_write_up_for(user)
            .filter(treatment_note__isnull=True)
            .select_related("patient", "service", "location")
            .order_by("-start")
        )


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Corrects or adds to the signed note; the note itself stays as signed.",
    )


# The questionnaire's ten sections, as declared fields (the admin's fieldsets name them).
OdiAnswersForm = type(
    "OdiAnswersForm",
    (forms.Form,),
    {
        f"odi_{section}": forms.TypedChoiceField(
            label=ODI_LABELS[section],
            choices=ODI_CHOICES,
            coerce=int,
            empty_value=None,
            required=False,
        )
        for section in ODI_SECTIONS
    },
)


def _yes(answer: str) -> bool:
    return answer == "yes"


# The Roland-Morris statements and the PSFS's activities, as declared fields.
RmdqPsfsAnswersForm = type(
    "RmdqPsfsAnswersForm",
    (forms.Form,),
    {
        **{
            name: forms.TypedChoiceField(
                label=f"{number}.",
                choices=RMDQ_CHOICES,
                coerce=_yes,
                empty_value=None,
                required=False,
            )
            for number, name in enumerate(RMDQ_FIELDS, start=1)
        },
        **{
            name: forms.CharField(
                label=f"Activity {row}", max_length=PSFS_ACTIVITY_LENGTH, required=False
            )
            if name.startswith("psfs_activity")
            else forms.IntegerField(
                label=f"Able to do it (0-10) {row}", min_value=0, max_value=10, required=False
            )
            for row in PSFS_ROWS
            for name in (f"psfs_activity_{row}", f"psfs_score_{row}")
        },
    },
)


class OutcomeMeasureForm(forms.ModelForm, OdiAnswersForm, RmdqPsfsAnswersForm):
    """A pain score, or a questionnaire's answers: the Oswestry's ten sections, the
    Roland-Morris's 24 statements, the PSFS's 3-5 activities (the scores are the
    services' to compute)."""

    pain = forms.IntegerField(
        label="Pain score", min_value=0, max_value=10, required=False, help_text="0 to 10."
    )

    class Meta:
        model = OutcomeMeasure
        fields = ["patient", "kind", "recorded_at"]
        widgets = {"recorded_at": AdminSplitDateTime}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "recorded_at" in self.fields:  # not on the read-only page of a recorded score
            self.fields["recorded_at"].initial = timezone.now
            self.fields["recorded_at"].help_text = "When the patient answered."

    def answers(self) -> dict[str, object]:
        """The answers by the names `treatments.measures` gives them: the pain score, and
        each questionnaire's answers when any of its items is answered."""
        odi = [self.cleaned_data.get(f"odi_{section}") for section in ODI_SECTIONS]
        rmdq = [self.cleaned_data.get(name) for name in RMDQ_FIELDS]
        psfs = [
            {
                "activity": self.cleaned_data.get(f"psfs_activity_{row}") or "",
                "score": self.cleaned_data.get(f"psfs_score_{row}"),
            }
            for row in PSFS_ROWS
        ]
        psfs = [item for item in psfs if item["activity"] or item["score"] is not None]
        return {
            "value": self.cleaned_data.get("pain"),
            "odi_answers": odi if any(answer is not None for answer in odi) else None,
            "rmdq_answers": rmdq if any(answer is not None for answer in rmdq) else None,
            "psfs": psfs or None,
        }

    def clean_recorded_at(self):
        recorded_at = self.cleaned_data["recorded_at"]
        if recorded_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("Scores are recorded once the patient has answered.")
        return recorded_at

    def clean(self):
        cleaned = super().clean()
        if (kind := cleaned.get("kind")) is None:
            return cleaned
        answers = self.answers()
        problems = answer_problems(kind, answers)
        for answer, messages in problems.items():
            self.add_error(FIELD_OF_ANSWER[answer], messages)
        if not problems and (problem := scoring_problem(kind, answers)):
            self.add_error(None, problem)
        return cleaned


class OutcomesReportForm(forms.Form):
    """The outcomes report's period and grouping, read from the page's query string; what is
    missing from it is the default (the last twelve months, by service)."""

    by = forms.ChoiceField(label="Group by", choices=GroupBy.choices)

    def __init__(self, query, *, today: date):
        first, last = default_period(today)
        data = {"from": first.isoformat(), "to": last.isoformat(), "by": GroupBy.SERVICE}
        data.update({name: query[name] for name in ("from", "to", "by") if query.get(name)})
        super().__init__(data)
        # `from` is a Python keyword: the fields keep the query's (and the API's) names.
        self.fields = {
            "from": CalendarDateField(label="Started care from", widget=AdminDateWidget),
            "to": CalendarDateField(label="to (included)", widget=AdminDateWidget),
            **self.fields,
        }

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("from"), cleaned.get("to")
        if first and last and first > last:
            self.add_error("to", "The period must end on or after its first day.")
        return cleaned
