"""The patient's record (`export.export_patient_record`) as a document to keep: an HTML page
or a PDF, laid out alike from `record_summary`. DRF renderers, so that the export view
answers `?format=html` / `?format=pdf` (or an Accept header) with the same data as its JSON.
"""

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.serializers import ValidationError

from .record_pdf import record_pdf
from .record_summary import record_sections


def _titles(record: dict) -> tuple[str, str]:
    patient = record["patient"]
    generated = timezone.localtime(datetime.fromisoformat(record["generated_at"]))
    return (
        f"Clinic record of {patient['first_name']} {patient['last_name']}",
        f"Everything {settings.CLINIC_NAME} holds about you, as of "
        f"{generated:%d %B %Y at %H:%M %Z}. Times are {record['time_zone']} time "
        "unless another zone is named.",
    )


class RecordHTMLRenderer(BaseRenderer):
    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> str:
        title, subtitle = _titles(data)
        return render_to_string(
            "records/my_record.html",
            {"title": title, "subtitle": subtitle, "sections": record_sections(data)},
        )


class RecordPDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        title, subtitle = _titles(data)
        return record_pdf(title=title, subtitle=subtitle, sections=record_sections(data))


class ChosenFormat(DefaultContentNegotiation):
    """An unknown `?format=` is a 400 naming the formats there are (DRF answers 404)."""

    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            known = ", ".join(renderer.format for renderer in renderers)
            raise ValidationError({"format": [f"One of: {known}."]})
        return matching
