"""What the messages hear back, for the app that sent the message to act on.

`offer_answered` is sent by `callbacks.take_reply`, inside the reply's transaction, when a
patient answers an offer (a message of kind `waitlist_offer`) by SMS with a yes or a no
keyword: `reply` (the `Reply`, not yet saved with its outcome), `notification` (the offer's
message it answers), `accepted` (yes or no) and `now`. A receiver (the waitlist's) sets the
reply's `action`, `outcome` and `answer`; notifications knows nothing of offers.
"""

from django.dispatch import Signal

offer_answered = Signal()
