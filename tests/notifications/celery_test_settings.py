"""Settings for the worker and beat processes the end-to-end and fault tests start.

The test settings, plus a fast scan (the beat interval and the stale-claim age come from
the environment the test gives the subprocess) and a queue of the test's own, so that
parallel runs sharing one Redis do not take each other's tasks.
"""

import os

from clinic.settings.test import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CLINIC_TEST_QUEUE", "celery")
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-messages": {
        "task": "notifications.tasks.dispatch_due",
        "schedule": float(os.environ.get("CLINIC_TEST_SCAN_SECONDS", "1")),
    },
    # The waitlist's sweep (tests/waitlist/test_worker_e2e.py), as often.
    "offer-freed-time": {
        "task": "waitlist.tasks.offer_freed_time",
        "schedule": float(os.environ.get("CLINIC_TEST_SCAN_SECONDS", "1")),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CLINIC_TEST_BEAT_FILE", "/tmp/clinic-test-celerybeat-schedule"
)
NOTIFICATIONS_STALE_CLAIM_SECONDS = int(os.environ.get("CLINIC_TEST_STALE_SECONDS", "5"))
