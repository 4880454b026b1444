"""Logging filters the settings attach (`LOGGING` in clinic/settings/base.py)."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx is the client's refusal, not our fault: Django logs a PermissionDenied (403)
    with the exception's traceback, which buried real errors under expected ones. The line
    stays; the traceback goes. 5xx records keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
