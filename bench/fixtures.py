"""The benchmark clinic's own cast and catalogue: its locations, services, practitioners
with their shifts, and the names its patients are given. The benchmarks build their clinics
from these (bench/busy_clinic.py) and never from the demo clinic's data, which is the demo's
to change. Plain data: it imports before Django is set up (`ensure_services` needs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

MELBOURNE_ZONE = "Australia/Melbourne"
# The service every benchmark books and asks free slots of.
SERVICE = "Myotherapy — SMM (45 min)"


@dataclass(frozen=True)
class LocationSpec:
    name: str
    address: str
    phone: str


LOCATIONS = (
    LocationSpec("Richmond", "18 Church Street, Richmond VIC 3121", "+61370200101"),
    LocationSpec("CBD", "Level 9, 120 Queen Street, Melbourne VIC 3000", "+61370200102"),
    LocationSpec("Brunswick", "410 Sydney Road, Brunswick VIC 3056", "+61370200103"),
)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    minutes: int
    buffer_minutes: int
    price: str
    room_kind: str
    disciplines: tuple[str, ...]
    bookable_online: bool = True
    is_assessment: bool = False


# practice.models' Discipline and RoomKind values.
MYO, NMPT, SCIATICA = "myotherapy", "nmpt", "sciatica"
TREATMENT, GYM = "treatment", "gym"
ASSESSMENT, SMM_45, SMM_60, NMPT_SESSION, SCIATICA_CONSULT, MAINTENANCE = (
    "assessment",
    "smm_45",
    "smm_60",
    "nmpt",
    "sciatica",
    "maintenance",
)
# By key. The durations and buffers set the diary's grid: change them and every figure
# measured before no longer compares.
SERVICES: dict[str, ServiceSpec] = {
    ASSESSMENT: ServiceSpec(
        "Initial assessment", 60, 15, "150.00", TREATMENT, (MYO, SCIATICA),
        is_assessment=True,
    ),
    SMM_45: ServiceSpec(SERVICE, 45, 10, "115.00", TREATMENT, (MYO,)),
    SMM_60: ServiceSpec("Myotherapy — SMM (60 min)", 60, 10, "140.00", TREATMENT, (MYO,)),
    NMPT_SESSION: ServiceSpec("NMPT session", 45, 15, "95.00", GYM, (NMPT,)),
    SCIATICA_CONSULT: ServiceSpec(
        "Sciatica specialist consultation", 60, 15, "195.00", TREATMENT, (SCIATICA,),
        bookable_online=False,
    ),
    MAINTENANCE: ServiceSpec(
        "Maintenance myotherapy", 45, 10, "105.00", TREATMENT, (MYO,)
    ),
}  # fmt: skip


def ensure_services() -> dict:
    """The catalogue's services by key, created if missing."""
    from practice.models import Service

    return {
        key: Service.objects.get_or_create(
            name=spec.name,
            defaults={
                "description": f"{spec.name}, {spec.minutes} minutes.",
                "duration_minutes": spec.minutes,
                "buffer_after_minutes": spec.buffer_minutes,
                "price": Decimal(spec.price),
                "room_kind": spec.room_kind,
                "disciplines": list(spec.disciplines),
                "bookable_online": spec.bookable_online,
                "is_assessment": spec.is_assessment,
            },
        )[0]
        for key, spec in SERVICES.items()
    }


PRACTITIONERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # first name, last name, title, disciplines
    ("Sophie", "Nguyen", "Myotherapist", ("myotherapy",)),
    ("James", "O'Connor", "Senior myotherapist", ("myotherapy",)),
    ("Mei", "Chen", "Myotherapist", ("myotherapy",)),
    ("Tom", "Gallagher", "Myotherapist", ("myotherapy",)),
    ("Elena", "Kostas", "Myotherapist", ("myotherapy",)),
    ("Raj", "Menon", "Myotherapist", ("myotherapy",)),
    ("Claire", "Dunn", "Myotherapist", ("myotherapy",)),
    ("Nathan", "Brooks", "Myotherapist", ("myotherapy",)),
    ("Yuki", "Sato", "Myotherapist", ("myotherapy",)),
    ("Fiona", "McKenzie", "Myotherapist", ("myotherapy",)),
    ("Daniel", "Vu", "Myotherapist", ("myotherapy",)),
    ("Laura", "Bianchi", "Senior myotherapist", ("myotherapy",)),
    ("Luca", "Romano", "NMPT coach", ("nmpt",)),
    ("Ben", "Walsh", "NMPT coach", ("nmpt",)),
    ("Tahlia", "Scott", "NMPT coach", ("nmpt",)),
    ("Marcus", "Lee", "NMPT coach", ("nmpt",)),
    ("Jess", "Hartley", "NMPT coach", ("nmpt",)),
    ("Aisha", "Rahman", "NMPT coach and myotherapist", ("nmpt", "myotherapy")),
    ("Hannah", "Fletcher", "Sciatica specialist", ("sciatica", "myotherapy")),
    ("Omar", "Saleh", "Sciatica specialist", ("sciatica",)),
)

# Wall-clock shifts: start, end, break start, break end.
WEEKDAY_SHIFTS = (
    (time(7), time(17), time(11, 30), time(12)),
    (time(8), time(18), time(12, 30), time(13)),
    (time(9, 30), time(19, 30), time(14), time(14, 30)),
)
SATURDAY_SHIFT = (time(8), time(16), time(12), time(12, 30))

# Which services each mix of disciplines books, with weights.
SERVICE_MIX: dict[tuple[str, ...], tuple[tuple[str, int], ...]] = {
    ("myotherapy",): ((SMM_45, 5), (SMM_60, 2), (MAINTENANCE, 2), (ASSESSMENT, 1)),
    ("nmpt",): ((NMPT_SESSION, 1),),
    ("nmpt", "myotherapy"): ((NMPT_SESSION, 3), (SMM_45, 2), (ASSESSMENT, 1)),
    ("sciatica", "myotherapy"): ((SCIATICA_CONSULT, 3), (ASSESSMENT, 2), (SMM_60, 1)),
    ("sciatica",): ((SCIATICA_CONSULT, 2), (ASSESSMENT, 1)),
}


# Fifty first names and fifty surnames: 2,500 patients before a name comes round again.
# fmt: off
FIRST_NAMES = (
    "Abigail", "Adrian", "Alana", "Ali", "Anika", "Beau", "Bella", "Caleb", "Cara", "Darcy",
    "Dev", "Eden", "Eli", "Elsa", "Felix", "Freya", "Gabriel", "Hana", "Harvey", "Ines", "Ivan",
    "Jade", "Jonah", "Kiara", "Leo", "Lucia", "Mason", "Mia", "Milo", "Nadia", "Noah", "Nora",
    "Otis", "Paige", "Quinn", "Rosa", "Rohan", "Sadie", "Seb", "Skye", "Theo", "Tessa", "Uma",
    "Victor", "Willa", "Xavier", "Yara", "Zac", "Zara", "Asha",
)
SURNAMES = (
    "Abbott", "Ahmed", "Barnes", "Bui", "Carey", "Costa", "Dalton", "Das", "Ellis", "Evans",
    "Finch", "Gill", "Hale", "Ho", "Ibrahim", "Jansen", "Joshi", "Keane", "Khan", "Lam", "Lowe",
    "Maher", "Moretti", "Nair", "Nash", "Ortiz", "Park", "Pham", "Price", "Rao", "Rowe", "Santos",
    "Shaw", "Silva", "Stone", "Suzuki", "Tait", "Tan", "Usman", "Vance", "Vargas", "Walker",
    "Webb", "Wu", "Yang", "Young", "Yusuf", "Zhou", "Zimmer", "Novak",
)
# fmt: on
