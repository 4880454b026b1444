"""The red-flag marker that the admin's lists and pages show beside a patient or an
appointment, for everyone who sees the row: that there are open red flags, not which (the
reasons are for clinicians, on the patient's page and the day view)."""

from django.utils.html import format_html

RED_FLAG_TITLE = "Open red flags: the practitioner checks them before the session."


def red_flag_marker(flagged: bool) -> str:
    if not flagged:
        return ""
    return format_html(
        '<span class="red-flag" style="color: #c62828; font-weight: bold" title="{}">'
        "&#9873; red flags</span>",
        RED_FLAG_TITLE,
    )
