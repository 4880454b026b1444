"""No role can raise its own or anyone's privileges (issue 13, item 5 and its machinery).

Every role that is not a superuser (a patient, reception, a practitioner, a Manager) x
every door that can touch a login (the user admin's change, password and add forms and
its delete action; the two-factor device admin's add, change and delete forms and delete
action; the group admin; the API's registration and profile) x every target (the caller
themselves, a peer in the same role, a superuser, a patient's login): the database's
privileges, other people's passwords and other people's two-factor devices are
unchanged afterwards, whatever the answer. The last tests show that each door is real:
a superuser gets through it, and a Manager still does what the role is for.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.permissions import sync_role_group
from patients.models import Patient
from tests.factories import PatientFactory, PractitionerFactory, UserFactory

from .conftest import enrol

pytestmark = pytest.mark.django_db

ROLES = ["patient", "reception", "practitioner", "manager"]
TARGETS = ["self", "peer", "superuser", "patient"]
NEW_PASSWORD = "a password the attacker chose"


def login_in_role(role: str, email: str) -> User:
    if role == "patient":
        return PatientFactory(user=UserFactory(email=email)).user
    user = UserFactory(email=email, is_staff=True)
    if role == "practitioner":
        PractitionerFactory(user=user)
    user.groups.add(sync_role_group(role.capitalize()))
    return user


@pytest.fixture
def people(db):
    """Per role: the caller and a peer; and a superuser and a patient; each enrolled."""

    def build(role: str) -> dict[str, User]:
        cast = {
            "self": login_in_role(role, f"{role}@clinic.example"),
            "peer": login_in_role(role, f"{role}.peer@clinic.example"),
            "superuser": UserFactory(
                email="owner@clinic.example", is_staff=True, is_superuser=True
            ),
            "patient": PatientFactory(user=UserFactory(email="someone@example.com")).user,
        }
        for user in cast.values():
            enrol(user)
        return cast

    return build


def snapshot(actor: User) -> dict:
    """Everything a privilege is made of; the actor's own password and device aside
    (changing one's own is not raising a privilege)."""
    users = {
        user.pk: (
            user.email,
            user.is_superuser,
            user.is_staff,
            user.is_active,
            frozenset(user.groups.values_list("pk", flat=True)),
            frozenset(user.user_permissions.values_list("pk", flat=True)),
            None if user.pk == actor.pk else user.password,
        )
        for user in User.objects.all()
    }
    devices = {
        (device.pk, device.user_id, device.key, device.confirmed, device.name)
        for device in TOTPDevice.objects.exclude(user=actor)
    }
    groups = {
        group.pk: (group.name, frozenset(group.permissions.values_list("pk", flat=True)))
        for group in Group.objects.all()
    }
    patients = set(Patient.objects.values_list("pk", "user_id"))
    return {"users": users, "devices": devices, "groups": groups, "patients": patients}


def everything_grantable() -> dict:
    return {
        "groups": [sync_role_group("Manager").pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:50]),
    }


def admin_of(user: User) -> Client:
    """The admin as `user`, signed in with their device's code (as every login here has one)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


# Doors that act on a target login.
def change_form(client: Client, actor: User, target: User):
    return client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {
            "email": target.email,
            "first_name": target.first_name,
            "last_name": target.last_name,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            **everything_grantable(),
            "date_joined_0": "2027-01-01",
            "date_joined_1": "09:00:00",
        },
    )


def password_form(client: Client, actor: User, target: User):
    return client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )


def delete_action(client: Client, actor: User, target: User):
    return client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"},
    )


def device_of(target: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=target)


def device_delete_form(client: Client, actor: User, target: User):
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device_of(target).pk])
    return client.post(url, {"post": "yes"})


def device_delete_action(client: Client, actor: User, target: User):
    return client.post(
        reverse("admin:otp_totp_totpdevice_changelist"),
        {"action": "delete_selected", "_selected_action": [device_of(target).pk], "post": "yes"},
    )


def device_change_form(client: Client, actor: User, target: User):
    """Hand the target's device to the caller (or just switch it off)."""
    url = reverse("admin:otp_totp_totpdevice_change", args=[device_of(target).pk])
    return client.post(
        url,
        {
            "user": actor.pk,
            "name": "mine now",
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
        },
    )


def device_add_form(client: Client, actor: User, target: User):
    """A device of the caller's choosing on the target's login."""
    return client.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {
            "user": target.pk,
            "name": "planted",
            "confirmed": "on",
            "key": "3132333435363738393031323334353637383930",
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
        },
    )


TARGETED_DOORS = {
    "user change form": change_form,
    "user password form": password_form,
    "user delete action": delete_action,
    "device delete form": device_delete_form,
    "device delete action": device_delete_action,
    "device change form": device_change_form,
    "device add form": device_add_form,
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("door", TARGETED_DOORS)
@pytest.mark.parametrize("role", ROLES)
def test_no_role_changes_privileges_through_the_admin(people, role, door, target):
    cast = people(role)
    actor = cast["self"]
    before = snapshot(actor)

    response = TARGETED_DOORS[door](admin_of(actor), actor, cast[target])

    assert response.status_code < 500
    assert snapshot(actor) == before


# Doors that create or act on no particular login.
def add_user_form(client: Client, actor: User):
    return client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new.hire@clinic.example",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "is_staff": "on",
            "is_superuser": "on",
            **everything_grantable(),
        },
    )


def group_change_form(client: Client, actor: User):
    """Every permission there is, for the caller's own group (or the Manager group)."""
    group = actor.groups.first() or sync_role_group("Manager")
    return client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )


def api(actor: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(actor)}")
    return client


PRIVILEGED_FIELDS = {
    "is_staff": True,
    "is_superuser": True,
    "groups": ["Manager"],
    "user_permissions": ["accounts.change_user"],
}


def api_profile(client: Client, actor: User):
    superuser = User.objects.get(is_superuser=True)
    return api(actor).patch(
        "/api/v1/patients/me/",
        {**PRIVILEGED_FIELDS, "user": superuser.pk, "email": superuser.email},
        format="json",
    )


def api_registration(client: Client, actor: User):
    return APIClient().post(
        "/api/v1/auth/register/",
        {
            "email": "new.patient@example.com",
            "password": NEW_PASSWORD,
            "first_name": "New",
            "last_name": "Patient",
            "phone": "0412 345 678",
            "date_of_birth": "1990-01-01",
            **PRIVILEGED_FIELDS,
        },
        format="json",
    )


UNTARGETED_DOORS = {
    "user add form": add_user_form,
    "group change form": group_change_form,
    "api: my profile": api_profile,
    "api: registration": api_registration,
}


@pytest.mark.parametrize("door", UNTARGETED_DOORS)
@pytest.mark.parametrize("role", ROLES)
def test_no_role_creates_or_grants_a_privilege(people, role, door):
    cast = people(role)
    actor = cast["self"]
    before = snapshot(actor)

    response = UNTARGETED_DOORS[door](admin_of(actor), actor)

    assert response.status_code < 500
    after = snapshot(actor)
    created = set(after["users"]) - set(before["users"])
    for pk in created:  # a new login holds nothing
        _, superuser, staff, _, groups, permissions, _ = after["users"][pk]
        assert (superuser, staff, groups, permissions) == (False, False, frozenset(), frozenset())
        del after["users"][pk]
    after["patients"] = {(p, u) for p, u in after["patients"] if u not in created}
    assert after == before


class TestTheDoorsAreReal:
    """The same requests, from someone allowed, do change the database: the matrix above
    is refused for the right reason, not because its requests are malformed."""

    def test_a_superuser_grants_through_the_change_form(self, people):
        cast = people("manager")
        owner = cast["superuser"]

        response = change_form(admin_of(owner), owner, cast["self"])

        assert response.status_code == 302, response.context["adminform"].form.errors
        cast["self"].refresh_from_db()
        assert cast["self"].is_superuser

    def test_a_superuser_sets_a_password_and_removes_a_device(self, people):
        cast = people("reception")
        owner = cast["superuser"]

        assert password_form(admin_of(owner), owner, cast["peer"]).status_code == 302
        assert device_delete_form(admin_of(owner), owner, cast["peer"]).status_code == 302

        cast["peer"].refresh_from_db()
        assert cast["peer"].check_password(NEW_PASSWORD)
        assert not TOTPDevice.objects.filter(user=cast["peer"]).exists()

    def test_a_manager_still_edits_the_details_of_a_login_below_them(self, people):
        cast = people("manager")
        patient = cast["patient"]

        response = admin_of(cast["self"]).post(
            reverse("admin:accounts_user_change", args=[patient.pk]),
            {
                "email": patient.email,
                "first_name": "Renamed",
                "last_name": patient.last_name,
                "is_superuser": "on",
                "date_joined_0": "2027-01-01",
                "date_joined_1": "09:00:00",
            },
        )

        assert response.status_code == 302
        patient.refresh_from_db()
        assert patient.first_name == "Renamed"
        assert not patient.is_active  # the box was not ticked: a manager may deactivate
        assert not patient.is_superuser  # the privilege box was ignored

    def test_a_manager_sees_the_privilege_fields_read_only_and_no_password_link(self, people):
        cast = people("manager")
        client = admin_of(cast["self"])

        own = client.get(reverse("admin:accounts_user_change", args=[cast["self"].pk]))
        superuser = client.get(reverse("admin:accounts_user_change", args=[cast["superuser"].pk]))

        assert own.status_code == 200
        assert {"is_superuser", "is_staff", "groups", "user_permissions"}.isdisjoint(
            own.context["adminform"].form.fields
        )
        assert superuser.status_code == 200 and not superuser.context["has_change_permission"]
        password_page = reverse("admin:auth_user_password_change", args=[cast["superuser"].pk])
        assert client.get(password_page).status_code == 403

    def test_a_manager_removes_their_own_lost_phone(self, people):
        cast = people("manager")

        response = device_delete_form(admin_of(cast["self"]), cast["self"], cast["self"])

        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=cast["self"]).exists()


def test_a_manager_cannot_reactivate_a_login_that_holds_more(people):
    """A practitioner who left holds clinical permissions a Manager lacks: switching the
    login back on would give them back, so it is the superuser's to do."""
    cast = people("manager")
    leaver = login_in_role("practitioner", "leaver@clinic.example")
    leaver.is_active = False
    leaver.save()
    client = admin_of(cast["self"])

    response = client.post(
        reverse("admin:accounts_user_change", args=[leaver.pk]),
        {
            "email": leaver.email,
            "first_name": leaver.first_name,
            "last_name": leaver.last_name,
            "is_active": "on",
            "date_joined_0": "2027-01-01",
            "date_joined_1": "09:00:00",
        },
    )

    assert response.status_code == 403
    leaver.refresh_from_db()
    assert not leaver.is_active
