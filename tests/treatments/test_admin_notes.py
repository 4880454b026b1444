"""Treatment notes in the admin: the author edits and signs a draft, a signed note is
read-only to everyone and amended by addenda, and the database's refusals are messages."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.fixtures.clinic import TODAY, at
from tests.treatments.admin_helpers import AdminRecords, messages_of, posted, session_of, url
from treatments.admin import notes as notes_admin
from treatments.models import Addendum, ExerciseEntry, MeasureKind, OutcomeMeasure, TreatmentNote
from treatments.services import sign_note, start_note

pytestmark = pytest.mark.usefixtures("frozen_now")

FINAL = "A signed note, its exercise log and its addenda are final: add an addendum."


class TestNotes(AdminRecords):
    def test_a_practitioner_starts_the_note_of_their_session(
        self, practitioner_staff, session, myotherapist
    ):
        page = practitioner_staff.get(url("treatmentnote", "add"))
        offered = list(page.context["form"].fields["appointment"].queryset)
        # Latest first: yesterday's session, then last month's assessment (no note yet either).
        assert offered[0] == session
        assert all(appointment.start <= timezone.now() for appointment in offered)

        response = practitioner_staff.post(url("treatmentnote", "add"), {"appointment": session.pk})

        note = TreatmentNote.objects.get()
        assert response["Location"] == url("treatmentnote", "change", note.pk)
        assert (note.appointment, note.author, note.signed_at) == (session, myotherapist, None)

    def test_the_author_edits_the_draft_and_its_exercise_log(self, practitioner_staff, draft):
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        assert page.context["has_change_permission"] is True

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk),
            posted(
                page,
                subjective="Better today.",
                regions_treated=["piriformis", "gemelli"],
                **{
                    "exercises-0-load_kg": "45",
                    "exercises-1-exercise": "Sprint 20 m",
                    "exercises-1-sets": "6",
                    "exercises-1-reps": "1",
                    "exercises-1-effort": "8",
                    "exercises-1-guarded": "on",
                },
            ),
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.subjective == "Better today."
        assert draft.regions_treated == ["piriformis", "gemelli"]
        log = list(draft.exercises.values_list("exercise", "load_kg", "guarded"))
        assert log == [("Back squat", Decimal("45.0"), False), ("Sprint 20 m", None, True)]

    def test_save_and_sign(self, practitioner_staff, draft, assessed_patient):
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        assert "Save and sign" in page.content.decode()

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, pain_score="3", _sign="1")
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.is_signed
        assert draft.pain_score == 3
        pain = OutcomeMeasure.objects.get(patient=assessed_patient, kind=MeasureKind.PAIN)
        assert pain.value == 3

    def test_another_practitioner_reads_a_draft_but_cannot_change_it(self, colleague_staff, draft):
        page = colleague_staff.get(url("treatmentnote", "change", draft.pk))

        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert "Save and sign" not in page.content.decode()
        response = colleague_staff.post(url("treatmentnote", "change", draft.pk), {"plan": "x"})
        assert response.status_code == 403
        draft.refresh_from_db()
        assert draft.plan == "Release x3"

    def test_a_signed_note_is_read_only_to_its_author_too(self, practitioner_staff, signed):
        response = practitioner_staff.get(url("treatmentnote", "change", signed.pk))

        html = response.content.decode()
        assert response.context["has_change_permission"] is False
        assert response.context["has_delete_permission"] is False
        assert 'name="subjective"' not in html
        assert 'name="exercises-0-exercise"' not in html
        assert "Save and sign" not in html
        assert "this note is final" in html
        for inline in response.context["inline_admin_formsets"]:
            assert not inline.has_add_permission
            assert not inline.has_change_permission
            assert not inline.has_delete_permission
        assert (
            practitioner_staff.post(
                url("treatmentnote", "change", signed.pk), {"subjective": "Rewritten"}
            ).status_code
            == 403
        )
        assert (
            practitioner_staff.post(
                url("treatmentnote", "delete", signed.pk), {"post": "yes"}
            ).status_code
            == 403
        )
        signed.refresh_from_db()
        assert signed.subjective == "Sore after running."
        assert ExerciseEntry.objects.filter(note=signed).count() == 1

    def test_an_addendum_is_added_with_its_own_form(self, practitioner_staff, signed):
        page = practitioner_staff.get(url("treatmentnote", "change", signed.pk))
        assert "Add an addendum" in page.content.decode()

        response = practitioner_staff.post(
            url("treatmentnote", "addendum", signed.pk),
            {"text": "Correction: the right leg."},
            follow=True,
        )

        assert response.status_code == 200
        assert list(signed.addenda.values_list("text", flat=True)) == ["Correction: the right leg."]
        assert "Correction: the right leg." in response.content.decode()  # the addenda inline
        signed.refresh_from_db()
        assert signed.subjective == "Sore after running."

    def test_an_empty_addendum_or_one_on_a_draft_is_a_message(self, practitioner_staff, draft):
        response = practitioner_staff.post(
            url("treatmentnote", "addendum", draft.pk), {"text": "x"}, follow=True
        )
        assert response.status_code == 403  # drafts are edited, not amended
        sign_note(note=draft, author=draft.author)

        response = practitioner_staff.post(
            url("treatmentnote", "addendum", draft.pk), {"text": "  "}, follow=True
        )

        assert response.status_code == 200
        assert "Write the addendum." in messages_of(response)
        assert not Addendum.objects.exists()

    def test_a_manager_reads_notes_and_adds_no_addenda(self, manager_staff, signed):
        page = manager_staff.get(url("treatmentnote", "change", signed.pk))

        assert page.status_code == 200
        assert "Add an addendum" not in page.content.decode()
        response = manager_staff.post(url("treatmentnote", "addendum", signed.pk), {"text": "x"})
        assert response.status_code == 403

    def test_signing_from_the_list_signs_only_ones_own_drafts(
        self, practitioner_staff, draft, stranger, second_myotherapist
    ):
        # Max's draft for a patient Mia also treats: she sees it, cannot sign it.
        theirs = session_of(
            draft.appointment.patient,
            second_myotherapist,
            draft.appointment.service,
            draft.appointment.location,
            draft.appointment.room,
            days_ago=5,
        )
        other = start_note(appointment=theirs, author=second_myotherapist)

        response = practitioner_staff.post(
            url("treatmentnote", "changelist"),
            {"action": "sign_selected", "_selected_action": [draft.pk, other.pk]},
            follow=True,
        )

        assert response.status_code == 200
        draft.refresh_from_db()
        other.refresh_from_db()
        assert draft.is_signed and not other.is_signed
        assert any("Only the note's author" in text for text in messages_of(response))

    def test_a_database_refusal_is_a_message_not_an_error(
        self, practitioner_staff, draft, monkeypatch
    ):
        """Signed elsewhere between the check and the save: PostgreSQL's trigger refuses
        the update, and the admin says so."""
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))
        real_update = notes_admin.update_draft

        def signed_meanwhile(**kwargs):
            TreatmentNote.objects.filter(pk=draft.pk).update(signed_at=at(TODAY, 7))
            return real_update(**{**kwargs, "note": TreatmentNote(pk=draft.pk)})

        monkeypatch.setattr(notes_admin, "update_draft", signed_meanwhile)

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, plan="Changed"), follow=True
        )

        assert response.status_code == 200
        assert messages_of(response)
        draft.refresh_from_db()
        assert (draft.plan, draft.signed_at) == ("Release x3", None)  # all rolled back

    @pytest.mark.parametrize(
        ("signed_meanwhile", "write", "said"),
        [
            (True, lambda note: TreatmentNote.objects.filter(pk=note.pk).update(plan="x"), FINAL),
            (True, lambda note: ExerciseEntry.objects.filter(note=note).update(reps=1), FINAL),
            (
                True,
                lambda note: Addendum.objects.filter(
                    pk=Addendum.objects.create(note=note, author=note.author, text="x").pk
                ).update(text="y"),
                FINAL,
            ),
            # Not a final record's guard: a check constraint, on the draft.
            (
                False,
                lambda note: TreatmentNote.objects.filter(pk=note.pk).update(pain_score=11),
                "The database refused the change: it conflicts with the records already kept.",
            ),
        ],
        ids=["note", "exercise log", "addendum", "another constraint"],
    )
    def test_the_database_guard_that_refused_is_known_by_its_name(
        self, practitioner_staff, draft, monkeypatch, signed_meanwhile, write, said
    ):
        """Past the services' own checks, PostgreSQL refuses the write; the admin tells a
        final record's guard (`treatments.finality`) by the name it refuses under."""
        page = practitioner_staff.get(url("treatmentnote", "change", draft.pk))

        def written_past_the_checks(**kwargs):
            if signed_meanwhile:
                TreatmentNote.objects.filter(pk=draft.pk).update(signed_at=at(TODAY, 7))
            write(draft)

        monkeypatch.setattr(notes_admin, "update_draft", written_past_the_checks)

        response = practitioner_staff.post(
            url("treatmentnote", "change", draft.pk), posted(page, plan="Changed"), follow=True
        )

        assert response.status_code == 200
        assert said in messages_of(response)
        draft.refresh_from_db()
        assert (draft.plan, draft.signed_at) == ("Release x3", None)  # all rolled back
