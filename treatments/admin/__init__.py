"""Clinical records in the admin, one module per subject: `intake` (answers and red flags),
`plans`, `notes` (with their exercise logs and addenda), `outcomes`, `thresholds` (of
clinically important change), `programme` (the exercise library, home programmes and their
logs); what they share is in `common`. Importing this package registers them all (the
admin's autodiscovery imports it).

For practitioners (the records of the patients they treat) and managers (everyone's, to
read; plans, to adjust); reception holds no permission here, so every page is 403 to it.

- Who sees which records: every queryset starts from `treatments.selectors`.
- What changes state: `treatments.services`, called here and never re-implemented. Intake
  answers are kept as submitted (a staff member may enter a new one, `submit_intake`); a
  clearance is `clear_red_flags`; a plan is started with `create_plan`, moved along the
  pathway with `move_plan_to_phase` and edited with `update_plan`; a note is started with
  `start_note`, its draft saved (the answers, then the exercise log) by `update_draft`,
  signed by `sign_note` and amended by `add_addendum`; scores go through
  `treatments.measures.record_measure`, as the API's do.
- Only its author edits a draft; a signed note is shown read-only, inlines included, and
  nothing here deletes a clinical record. A refusal — a `DomainError` of the services, or an
  `IntegrityError` of the database's own guards (the triggers that make signed notes final,
  known by the names in `treatments.finality`) — is shown as a message, never as a server
  error.
- Lists and pages read a fixed number of queries whatever the rows (select/prefetch).
- Every page and list shown, and every change, is audited (`audit.mixins.AuditedAdmin`); the
  pages that change records through their own views log the change inside the
  transaction of the change.
"""

from . import intake, notes, outcomes, plans, programme, thresholds

__all__ = ["intake", "notes", "outcomes", "plans", "programme", "thresholds"]
