"""`make run` gives a newcomer a login for each role of the demo clinic (development
passwords, printed in its banner), and nothing gives them outside development (issue 16)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import Role, roles_of
from demo import data
from demo.logins import ensure_demo_logins
from tools.devenv import banner

# One worker seeds the demo clinic for both modules (`make test` runs `--dist loadgroup`).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_clinic")]

SUPERUSER = {"superuser_email": "manager@clinic.example", "superuser_password": "dev-only"}


@pytest.fixture
def development(settings):
    settings.DEBUG = True
    settings.NOTIFICATIONS_DELIVERY = "outbox"


def test_no_demo_logins_outside_development(demo_clinic, settings):
    settings.DEBUG = False

    with pytest.raises(ImproperlyConfigured, match="DEBUG=1"):
        ensure_demo_logins(**SUPERUSER)
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo_logins")
    assert not User.objects.filter(email="reception@clinic.example").exists()
    practitioner = User.objects.get(email=data.PRACTITIONERS[0].email)
    assert not practitioner.has_usable_password()


def login_of(logins, role_prefix):
    [login] = [login for login in logins if login.role.startswith(role_prefix)]
    return login


def signs_in(login) -> User:
    user = User.objects.get(email=login.email)
    assert user.is_active and user.check_password(login.password), login
    return user


def test_a_login_for_each_role(demo_clinic, development):
    logins = ensure_demo_logins(**SUPERUSER)

    admin = signs_in(login_of(logins, "Admin"))
    manager = signs_in(login_of(logins, "Manager"))
    reception = signs_in(login_of(logins, "Reception"))
    patient = signs_in(login_of(logins, "Patient"))
    practitioners = [signs_in(login) for login in logins if login.role.startswith("Practitioner")]

    assert admin.is_superuser and admin.is_staff
    assert roles_of(manager) == {Role.MANAGER} and not manager.is_superuser and manager.is_staff
    assert roles_of(reception) == {Role.RECEPTION} and reception.is_staff
    assert roles_of(patient) == {Role.PATIENT} and not patient.is_staff
    assert patient.patient.email == patient.email
    assert {user.email for user in practitioners} == {p.email for p in data.PRACTITIONERS}
    assert all(roles_of(user) == {Role.PRACTITIONER} for user in practitioners)


def test_running_it_again_resets_the_passwords_and_adds_nothing(demo_clinic, development):
    ensure_demo_logins(**SUPERUSER)
    users = User.objects.count()
    reception = User.objects.get(email="reception@clinic.example")
    reception.set_password("forgotten")
    reception.save()

    logins = ensure_demo_logins(**SUPERUSER)

    assert User.objects.count() == users
    signs_in(login_of(logins, "Reception"))


def test_the_banner_prints_every_login(demo_clinic, development):
    logins = [login.as_dict() for login in ensure_demo_logins(**SUPERUSER)]

    text = banner("http://127.0.0.1:8000", "http://127.0.0.1:8001", logins, 200)

    assert "The clinic backend is running" in text
    assert "Booking:   http://127.0.0.1:8001/" in text
    for login in logins:
        assert f"{login['email']}" in text and login["password"] in text
    assert "development passwords" in text
