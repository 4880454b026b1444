"""The demo clinic, as data: locations, rooms, services, practitioners and their rotas, patients.

Everything here is fictitious. Emails use the reserved `example.com` / `clinic.example`
domains. Mobiles are +61 491 570 xxx: the ACMA's numbers for creative works lie in that
block, but not every number in it is reserved, so never point a real SMS gateway at demo
data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from practice.models import Discipline, RoomKind, Weekday

MELBOURNE = "Australia/Melbourne"

MON, TUE, WED, THU, FRI, SAT = (
    Weekday.MONDAY,
    Weekday.TUESDAY,
    Weekday.WEDNESDAY,
    Weekday.THURSDAY,
    Weekday.FRIDAY,
    Weekday.SATURDAY,
)
MYO, NMPT, SCIATICA = Discipline.MYOTHERAPY, Discipline.NMPT, Discipline.SCIATICA

RICHMOND = "Richmond"
CBD = "CBD"


@dataclass(frozen=True)
class RoomSpec:
    name: str
    kind: str
    capacity: int = 1


@dataclass(frozen=True)
class LocationSpec:
    name: str
    address: str
    phone: str
    rooms: tuple[RoomSpec, ...]
    time_zone: str = MELBOURNE


_ROOMS = (
    RoomSpec("Treatment room 1", RoomKind.TREATMENT),
    RoomSpec("Treatment room 2", RoomKind.TREATMENT),
    RoomSpec("Gym", RoomKind.GYM, capacity=3),
)

LOCATIONS: tuple[LocationSpec, ...] = (
    LocationSpec(
        name=RICHMOND,
        address="212 Swan Street, Richmond VIC 3121",
        phone="+61370101234",
        rooms=_ROOMS,
    ),
    LocationSpec(
        name=CBD,
        address="Level 3, 350 Collins Street, Melbourne VIC 3000",
        phone="+61370105678",
        rooms=_ROOMS,
    ),
)


@dataclass(frozen=True)
class ServiceSpec:
    key: str
    name: str
    description: str
    duration_minutes: int
    buffer_after_minutes: int
    price: Decimal
    room_kind: str
    disciplines: tuple[str, ...]
    bookable_online: bool = True
    is_assessment: bool = False


ASSESSMENT = "assessment"
SMM_45 = "smm_45"
SMM_60 = "smm_60"
NMPT_SESSION = "nmpt"
NMPT_GROUP = "nmpt_group"
SCIATICA_CONSULT = "sciatica"
MAINTENANCE = "maintenance"

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        key=ASSESSMENT,
        name="Initial assessment",
        description="Where the symptoms are and what drives them: posture, pelvic tilt, "
        "anterior/posterior chain balance, red-flag screen. Every new patient starts here.",
        duration_minutes=60,
        buffer_after_minutes=15,
        price=Decimal("150.00"),
        room_kind=RoomKind.TREATMENT,
        disciplines=(MYO, SCIATICA),
        is_assessment=True,
    ),
    ServiceSpec(
        key=SMM_45,
        name="Myotherapy — SMM (45 min)",
        description="Solidified Myoneural Manipulation of the lower back, hips, buttock and "
        "deep hip rotators.",
        duration_minutes=45,
        buffer_after_minutes=10,
        price=Decimal("115.00"),
        room_kind=RoomKind.TREATMENT,
        disciplines=(MYO,),
    ),
    ServiceSpec(
        key=SMM_60,
        name="Myotherapy — SMM (60 min)",
        description="A longer SMM session for the lower back, hips and deep hip rotators.",
        duration_minutes=60,
        buffer_after_minutes=10,
        price=Decimal("140.00"),
        room_kind=RoomKind.TREATMENT,
        disciplines=(MYO,),
    ),
    ServiceSpec(
        key=NMPT_SESSION,
        name="NMPT session",
        description="Neuro-Muscular Power Training: supervised compound lifts, sprint work "
        "and stretching in the clinic gym.",
        duration_minutes=45,
        buffer_after_minutes=15,
        price=Decimal("95.00"),
        room_kind=RoomKind.GYM,
        disciplines=(NMPT,),
    ),
    ServiceSpec(
        key=NMPT_GROUP,
        name="NMPT group class",
        description="Neuro-Muscular Power Training in a small group: one coach, up to four "
        "patients in the gym. Book a place in one class or the whole series.",
        duration_minutes=60,
        buffer_after_minutes=15,
        price=Decimal("45.00"),
        room_kind=RoomKind.GYM,
        disciplines=(NMPT,),
    ),
    ServiceSpec(
        key=SCIATICA_CONSULT,
        name="Sciatica specialist consultation",
        description="For severe or persistent leg symptoms; booked by reception after the "
        "assessment.",
        duration_minutes=60,
        buffer_after_minutes=15,
        price=Decimal("195.00"),
        room_kind=RoomKind.TREATMENT,
        disciplines=(SCIATICA,),
        bookable_online=False,
    ),
    ServiceSpec(
        key=MAINTENANCE,
        name="Maintenance myotherapy",
        description="A periodic visit once pain-free, to keep it from coming back.",
        duration_minutes=45,
        buffer_after_minutes=10,
        price=Decimal("105.00"),
        room_kind=RoomKind.TREATMENT,
        disciplines=(MYO,),
    ),
)


@dataclass(frozen=True)
class Shift:
    """One rota line: weekdays at a location, wall-clock hours, optional breaks."""

    location: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    breaks: tuple[tuple[time, time], ...] = ()


@dataclass(frozen=True)
class PractitionerSpec:
    first_name: str
    last_name: str
    title: str
    disciplines: tuple[str, ...]
    bio: str
    rota: tuple[Shift, ...] = field(default_factory=tuple)

    @property
    def email(self) -> str:
        return _email(self.first_name, self.last_name, "clinic.example")


def _t(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def _shift(location: str, weekdays: tuple[int, ...], hours: str, *breaks: str) -> Shift:
    start, end = hours.split("-")
    return Shift(
        location=location,
        weekdays=weekdays,
        start=_t(start),
        end=_t(end),
        breaks=tuple((_t(b.split("-")[0]), _t(b.split("-")[1])) for b in breaks),
    )


PRACTITIONERS: tuple[PractitionerSpec, ...] = (
    PractitionerSpec(
        "Sophie",
        "Nguyen",
        "Myotherapist",
        (MYO,),
        "Myotherapist with a special interest in lower-back pain in runners.",
        (_shift(RICHMOND, (MON, WED, FRI), "08:00-16:00", "12:00-12:30"),),
    ),
    PractitionerSpec(
        "James",
        "O'Connor",
        "Senior myotherapist",
        (MYO,),
        "Senior myotherapist; fifteen years of SMM for hip and buttock pain.",
        (
            _shift(CBD, (TUE, THU), "10:00-18:00", "13:30-14:00"),
            _shift(RICHMOND, (SAT,), "08:00-13:00"),
        ),
    ),
    PractitionerSpec(
        "Mei",
        "Chen",
        "Myotherapist",
        (MYO,),
        "Myotherapist; desk-worker posture and anterior pelvic tilt.",
        (
            _shift(CBD, (MON, WED), "07:30-15:30", "11:30-12:00"),
            _shift(RICHMOND, (TUE, THU), "12:00-20:00", "16:00-16:30"),
        ),
    ),
    PractitionerSpec(
        "Luca",
        "Romano",
        "NMPT coach",
        (NMPT,),
        "Strength coach: squats, deadlifts and sprint work for a strong posterior chain.",
        (
            _shift(RICHMOND, (MON, WED, FRI), "07:00-15:00", "11:00-11:30"),
            _shift(CBD, (TUE,), "12:00-19:00", "15:30-16:00"),
        ),
    ),
    PractitionerSpec(
        "Aisha",
        "Rahman",
        "NMPT coach and myotherapist",
        (NMPT, MYO),
        "Myotherapist and NMPT coach; takes patients from release to strength.",
        (
            _shift(RICHMOND, (TUE, THU), "08:00-16:00", "12:00-12:30"),
            _shift(CBD, (WED, FRI), "11:00-19:00", "14:30-15:00"),
        ),
    ),
    PractitionerSpec(
        "Ben",
        "Walsh",
        "NMPT coach",
        (NMPT,),
        "Former sprinter; coaches return-to-running programmes.",
        (
            _shift(CBD, (MON, THU), "06:30-14:30", "10:30-11:00"),
            _shift(RICHMOND, (WED,), "12:00-19:00", "15:00-15:30"),
            _shift(CBD, (SAT,), "08:00-12:00"),
        ),
    ),
    PractitionerSpec(
        "Hannah",
        "Fletcher",
        "Sciatica specialist",
        (SCIATICA, MYO),
        "Sees patients with nerve symptoms down the leg; liaises with their GP.",
        (
            _shift(RICHMOND, (TUE,), "09:00-17:00", "12:30-13:15"),
            _shift(CBD, (THU,), "09:00-17:00", "12:30-13:15"),
        ),
    ),
)

# Sophie Nguyen is away for a week soon; James O'Connor covers a one-off Saturday at the CBD.
LEAVE_PRACTITIONER = "sophie.nguyen@clinic.example"
LEAVE_STARTS_IN_DAYS = 9
LEAVE_DAYS = 5
LEAVE_REASON = "Annual leave"
EXTRA_HOURS_PRACTITIONER = "james.oconnor@clinic.example"
EXTRA_HOURS_LOCATION = CBD
EXTRA_HOURS = (_t("09:00"), _t("13:00"))

PATIENT_NAMES: tuple[tuple[str, str], ...] = (
    ("Olivia", "Bennett"),
    ("Jack", "Thompson"),
    ("Charlotte", "Walsh"),
    ("Nikos", "Papadopoulos"),
    ("Amelia", "Tran"),
    ("William", "Harris"),
    ("Isla", "Kowalski"),
    ("Thomas", "Murphy"),
    ("Giulia", "Rossi"),
    ("Lachlan", "McDonald"),
    ("Grace", "Le"),
    ("Arjun", "Singh"),
    ("Chloe", "Anderson"),
    ("Henry", "Clarke"),
    ("Zoe", "Georgiou"),
    ("Marco", "Ferrari"),
    ("Ruby", "Campbell"),
    ("Ethan", "Wong"),
    ("Harper", "Kelly"),
    ("Rahul", "Patel"),
    ("Ella", "Robertson"),
    ("Benjamin", "Lee"),
    ("Matilda", "Ryan"),
    ("Harpreet", "Kaur"),
    ("Cooper", "Mitchell"),
    ("Sienna", "Hughes"),
    ("Mohammed", "Haddad"),
    ("Evie", "Stewart"),
    ("Riley", "Fraser"),
    ("Ava", "Dimitriou"),
    ("Hamish", "Gordon"),
    ("Priya", "Sharma"),
    ("Oscar", "Nolan"),
    ("Lily", "Zhang"),
    ("Angus", "Morrison"),
    ("Maya", "Fernando"),
    ("Declan", "Byrne"),
    ("Hannah", "Schultz"),
    ("Tyler", "Reid"),
    ("Sarah", "Cohen"),
    ("Liam", "Doyle"),
    ("Jasmine", "Vo"),
    ("Patrick", "Quinn"),
    ("Emily", "Russo"),
    ("Kai", "Tanaka"),
    ("Georgia", "Wilkinson"),
    ("Sam", "Baker"),
    ("Leila", "Karimi"),
    ("Connor", "Doherty"),
    ("Alice", "Marshall"),
)


# The last patients of the list are new: their assessment was only days ago, so the clinic
# always has someone in the assess phase of the pathway.
NEW_PATIENTS = 2
NEW_PATIENT_DAYS_AGO = (2, 5)


def patient_email(first_name: str, last_name: str) -> str:
    return _email(first_name, last_name, "example.com")


def patient_mobile(index: int) -> str:
    return f"+61491570{index:03d}"


def _email(first_name: str, last_name: str, domain: str) -> str:
    local = f"{first_name}.{last_name}".lower()
    return "".join(c for c in local if c.isalnum() or c == ".") + "@" + domain
