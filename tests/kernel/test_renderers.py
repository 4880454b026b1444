"""The API's JSON renderer writes what DRF's JSONRenderer writes, byte for byte, and the
browsable API still renders through it."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList
from rest_framework.views import APIView

from kernel.renderers import ClinicJSONRenderer

MELBOURNE = ZoneInfo("Australia/Melbourne")

BODIES = {
    "page": {
        "count": 2,
        "next": None,
        "results": ReturnList(
            [
                ReturnDict(
                    {"id": 1, "load_kg": Decimal("30.5"), "guarded": False}, serializer=None
                ),
                {"id": 2, "load_kg": None, "pain_score": 0, "tags": ("a", "b")},
            ],
            serializer=None,
        ),
    },
    "times": {
        "utc": datetime(2027, 3, 22, 8, 0, tzinfo=UTC),
        "zoned": datetime(2027, 3, 22, 8, 0, 0, 123456, tzinfo=MELBOURNE),
        "naive": datetime(2027, 3, 22, 8, 0),
        "day": date(2027, 3, 22),
        "clock": time(9, 30),
        "span": timedelta(minutes=45),
    },
    "numbers": {
        "decimals": [Decimal("80.00"), Decimal("0.1"), Decimal("12345.6")],
        "floats": [30.5, 42.0, 0.0, -1.25, 1e16],
        "ids": [1, 2**63 - 1],
        "booleans": [True, False],
    },
    "text": {
        "accents": "Zoë Müller, 東京",
        "emoji": "\U0001f600",
        "controls": "tab\tnew\nline\x00\x1f\x7f",
        "separators": "line\u2028paragraph\u2029end",
        "quotes": 'say "hi" \\ bye / </script>',
        "lazy": gettext_lazy("Not found."),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    },
    "nothing": {"none": None, "empty_list": [], "empty_dict": {}},
    # What orjson refuses: DRF's renderer answers instead.
    "huge int": {"id": 2**64},
    "int keys": {1: "one", 2: "two"},
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_same_bytes_as_drfs_renderer(body):
    assert ClinicJSONRenderer().render(body) == JSONRenderer().render(body)


@pytest.mark.parametrize("accepted", ["application/json; indent=4", "application/json; indent=2"])
def test_pretty_printing_on_request_is_drfs(accepted):
    body = BODIES["page"]
    rendered = ClinicJSONRenderer().render(body, accepted)

    assert rendered == JSONRenderer().render(body, accepted)
    assert b"\n" in rendered


def test_no_body_is_empty():
    assert ClinicJSONRenderer().render(None) == b""


@dataclass
class Unknown:
    name: str


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"thing": Unknown("x")}, TypeError),  # DRF refuses dataclasses; orjson would not
        ({"at": time(9, 30, tzinfo=UTC)}, ValueError),
        ({"text": "\ud800"}, UnicodeEncodeError),
    ],
    ids=["dataclass", "zoned time", "lone surrogate"],
)
def test_what_drf_refuses_is_refused_alike(body, error):
    with pytest.raises(error):
        JSONRenderer().render(body)
    with pytest.raises(error):
        ClinicJSONRenderer().render(body)


class Echo(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [ClinicJSONRenderer, BrowsableAPIRenderer]

    def get(self, request):
        return Response({"price": Decimal("80.00"), "at": datetime(2027, 3, 22, tzinfo=UTC)})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", b'{"price":80.0,"at":"2027-03-22T00:00:00Z"}'),
        ("text/html", b"&quot;2027-03-22T00:00:00Z&quot;"),
    ],
)
def test_the_browsable_api_renders_through_it(accept, expected):
    response = Echo.as_view()(APIRequestFactory().get("/", HTTP_ACCEPT=accept))
    response.render()

    assert response.status_code == 200
    assert expected in response.content
