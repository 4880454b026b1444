"""What the patient register announces, for whoever acts on it (the messages to patients:
`notifications.receivers`).

Sent by `patients.services` inside the change's transaction, after the change is saved and
under the patient's row lock: what a receiver writes commits or rolls back with it.
Arguments: `patient`, as saved, and `now`, the moment of the change.
"""

from django.dispatch import Signal

# The patient's consent to email or SMS changed (given or withdrawn, any door).
consents_changed = Signal()
