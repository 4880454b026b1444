"""Clinical records over HTTP, one module per subject: `intake` (and red flags), `plans`,
`notes`, `outcomes`, `progress`; what they share is in `common`. Thin views over
`treatments.services` (what changes state) and `treatments.selectors` (who sees what).

Clinical endpoints are for practitioners and managers (`CanReadClinicalRecords`): reception
gets 403, and so does a patient, except for submitting their own intake questionnaire. A
practitioner sees the records of the patients they treat; anything else answers 404 and is
left out of lists. Writing needs the same group permission that the admin asks for
(`HoldsTheAdminsPermission`): a manager reads every record and adjusts plans, but enters no
intake or score and clears no red flag (403). Writing a note or starting a plan needs a
practitioner record (the note's author, the plan's practitioner); only a draft's author edits
or signs it (the services refuse anyone else with 409 `not_the_author`).

Every request body has its own serializer that lists exactly what a client may set: the
author, the patient of a note, signing times, statuses set by actions, ids and computed
scores are never taken from the body.
"""
