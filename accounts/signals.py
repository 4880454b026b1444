"""What accounts announce for whoever keeps a record of it (the audit log: `audit.receivers`).

Sessions announce sign-ins, failures and lockouts with Django's and axes' own signals; these
are the events that send none. Both are sent inside the change's transaction, so a receiver
that fails undoes the change.
"""

from django.dispatch import Signal

# A sign-in that handed out API tokens (no session, so no `user_logged_in`): request, user.
signed_in_for_tokens = Signal()
# A second factor confirmed, replacing any earlier one: request, user.
second_factor_enrolled = Signal()
