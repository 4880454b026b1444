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
# A change to a login made through an emailed link or by its owner (`accounts.lifecycle`):
# request (or None), user, change ("email_verified", "email_changed", "email_change_asked",
# "password_reset") and detail (a dict for the audit log).
account_changed = Signal()
# A login's address is now proved to be its owner's (first verified, or changed to):
# request (or None), user, previous_email. The patient register links the login to the
# record reception keeps for that address (`patients.receivers`).
email_verified = Signal()
