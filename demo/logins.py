"""A login for each role of the demo clinic, with development passwords, so that a newcomer
who ran `make run` can try the admin as reception, a manager and a practitioner, the API as
a patient, and everything as the superuser (`make run` prints them).

Development only: refused unless DEBUG is on and messages stay in the outbox, as `make run`
sets them; the passwords are in this file, so they are nobody's secret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.emails import normalize_email
from accounts.models import User
from accounts.permissions import sync_role_group
from patients.models import Patient

from . import data

RECEPTION = ("reception@clinic.example", "clinic-demo-reception")
MANAGER = ("practice-manager@clinic.example", "clinic-demo-practice-manager")
PRACTITIONER_PASSWORD = "clinic-demo-practitioner"
PATIENT_PASSWORD = "clinic-demo-patient"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    where: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def ensure_demo_logins(*, superuser_email: str, superuser_password: str) -> list[DemoLogin]:
    """Create the demo logins that are missing and (re)set every one's password; the demo
    clinic (`seed_demo`) must be there. A login that exists keeps its other details."""
    if not settings.DEBUG or settings.NOTIFICATIONS_DELIVERY != "outbox":
        raise ImproperlyConfigured(
            "Demo logins have development passwords: they are made only with DEBUG=1 and "
            "NOTIFICATIONS_DELIVERY=outbox (make run's settings)."
        )
    logins = [
        DemoLogin("Admin (superuser)", superuser_email, superuser_password, "admin, API"),
        DemoLogin("Manager", *MANAGER, "admin, API"),
        DemoLogin("Reception", *RECEPTION, "admin, API"),
        *(
            DemoLogin(
                f"Practitioner: {spec.first_name} {spec.last_name}",
                spec.email,
                PRACTITIONER_PASSWORD,
                "admin, API",
            )
            for spec in data.PRACTITIONERS
        ),
    ]
    with transaction.atomic():
        _staff(logins[0], superuser=True)
        _staff(logins[1], group="Manager", first_name="Pat", last_name="Manager")
        _staff(logins[2], group="Reception", first_name="Rae", last_name="Reception")
        for login in logins[3:]:
            _password(User.objects.get(email=normalize_email(login.email)), login.password)
        logins.append(_demo_patient())
    return logins


def _staff(login: DemoLogin, *, superuser: bool = False, group: str = "", **names: str) -> None:
    email = normalize_email(login.email)
    user = User.objects.filter(email=email).first() or User(email=email, **names)
    user.is_active = user.is_staff = True
    user.is_superuser = superuser
    _password(user, login.password)
    if group:
        user.groups.add(sync_role_group(group))


def _demo_patient() -> DemoLogin:
    """The first demo patient, given a login for the API (the clinic's website)."""
    first_name, last_name = data.PATIENT_NAMES[0]
    patient = Patient.objects.select_related("user").get(
        email=data.patient_email(first_name, last_name)
    )
    if patient.user is None:
        patient.user = User(
            email=normalize_email(patient.email), first_name=first_name, last_name=last_name
        )
        _password(patient.user, PATIENT_PASSWORD)
        patient.save(update_fields=["user"])
    else:
        _password(patient.user, PATIENT_PASSWORD)
    return DemoLogin(
        f"Patient: {first_name} {last_name}", patient.user.email, PATIENT_PASSWORD, "API only"
    )


def _password(user: User, password: str) -> None:
    user.is_active = True
    # The demo's addresses are nobody's inbox: no link sent to them could be followed, and
    # the demo patient must be able to book.
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.set_password(password)
    user.save()
