"""The names of the triggers that make a signed note, its exercise log and its addenda final
(declared in `treatments.models`). A refused write carries, as its constraint name
(`error.__cause__.diag.constraint_name`), the note's or the addendum's: the exercise log of
a signed note is refused as part of the note."""

SIGNED_NOTE_IS_FINAL = "treatment_note_signed_is_final"
EXERCISE_LOG_OF_SIGNED_NOTE_IS_FINAL = "exercise_entry_of_signed_note_is_final"
ADDENDUM_IS_FINAL = "addendum_is_final"

FINAL_TRIGGERS = frozenset(
    {SIGNED_NOTE_IS_FINAL, EXERCISE_LOG_OF_SIGNED_NOTE_IS_FINAL, ADDENDUM_IS_FINAL}
)
