"""Staff roles as Django groups: exact permissions, made by a migration, and what each role
can do in the admin — above all that reception never gets clinical records."""

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.permissions import ROLE_PERMISSIONS, permission_keys, sync_role_group
from accounts.roles import GROUP_OF_ROLE, Role, roles_of
from practice.models import Location
from tests.factories import UserFactory
from tests.fixtures.admin_clients import admin_client

pytestmark = pytest.mark.usefixtures("frozen_now")

GRANTING_MIGRATIONS = [
    "0003_staff_group_permissions",
    "0004_clinical_record_permissions",
    "0005_messaging_permissions",
    "0006_audit_permissions",
    "0008_security_policy_row_and_permissions",
    "0013_reply_permissions",
    "0014_waitlist_permissions",
    "0015_outcome_measure_grants",
    "0016_waitlist_offer_permissions",
    "0017_group_class_permissions",
    "0018_home_programme_grants",
]

PRACTICE_MODELS = [
    "location",
    "room",
    "service",
    "practitioner",
    "workinghours",
    "break",
    "leave",
    "extrahours",
    "bookingrules",
]


# Clinical records: the models of the `treatments` app.
CLINICAL_MODELS = [
    "intake",
    "redflagclearance",
    "treatmentplan",
    "planphase",
    "treatmentnote",
    "exerciseentry",
    "addendum",
    "outcomemeasure",
    "riskscreening",
    "homeexercise",
]
# The patients' logs of their home programmes: they write them through the API; their
# clinicians read them (0018).
CLINICAL_READINGS = ["homeexerciselog"]
# Not a record but the clinic's settings of them: the thresholds of clinically important
# change, read by practitioners, changed by managers (0015); the exercise library, kept by
# both (0018).
CLINICAL_SETTINGS = ["importantchange"]


def _on(app_label, actions, models):
    return {(app_label, f"{action}_{model}") for model in models for action in actions}


EXERCISE_LIBRARY = _on("treatments", ["view", "add", "change"], ["exercise"])


# The sets as migration 0003 left them, before clinical records existed.
BEFORE_CLINICAL_RECORDS = {
    "Reception": (
        _on("patients", ["view", "add", "change"], ["patient"])
        | _on("appointments", ["view", "add", "change"], ["appointment"])
        | _on("practice", ["view"], PRACTICE_MODELS)
    ),
    "Practitioner": (
        _on("patients", ["view"], ["patient"])
        | _on("appointments", ["view", "change"], ["appointment"])
        | _on("practice", ["view"], PRACTICE_MODELS)
    ),
    "Manager": (
        _on("practice", ["view", "add", "change", "delete"], PRACTICE_MODELS)
        | _on("patients", ["view", "add", "change"], ["patient"])
        | _on("appointments", ["view", "add", "change"], ["appointment"])
        | _on("accounts", ["view", "add", "change"], ["user"])
        | _on("auth", ["view"], ["group"])
    ),
}
# The issue's permission sets, written out: practitioners write clinical records (never
# delete them), managers read them all and may change plans; reception gets nothing of them.
# Every staff role reads the message log and the patients' SMS replies; the front desk marks
# replies handled; managers edit the templates and settings.
MESSAGE_LOG = _on("notifications", ["view"], ["notification", "reply"])
REPLIES_HANDLED = _on("notifications", ["change"], ["reply"])
# The front desk puts patients on the waitlist and ends entries; practitioners read it.
WAITLIST_KEPT = _on("waitlist", ["view", "add", "change"], ["waitlistentry"])
# The front desk sees offers of freed time, offers by hand (add) and withdraws (change);
# reception reads the offer policy, the manager sets it.
OFFERS_MADE = _on("waitlist", ["view", "add", "change"], ["waitlistoffer"])
# Group classes: the front desk and the manager schedule and cancel them and book patients
# in; coaches read theirs; all three mark attendance on a place (0017).
CLASSES_KEPT = _on("appointments", ["view", "add", "change"], ["groupclass"]) | _on(
    "appointments", ["view", "change"], ["classplace"]
)
EXPECTED = {
    "Reception": (
        BEFORE_CLINICAL_RECORDS["Reception"]
        | MESSAGE_LOG
        | REPLIES_HANDLED
        | WAITLIST_KEPT
        | OFFERS_MADE
        | _on("waitlist", ["view"], ["offerpolicy"])
        | CLASSES_KEPT
    ),
    "Practitioner": (
        BEFORE_CLINICAL_RECORDS["Practitioner"]
        | _on("treatments", ["view", "add", "change"], CLINICAL_MODELS)
        | MESSAGE_LOG
        | _on("waitlist", ["view"], ["waitlistentry"])
        | _on("treatments", ["view"], CLINICAL_SETTINGS)
        | _on("treatments", ["view"], CLINICAL_READINGS)
        | EXERCISE_LIBRARY
        | _on("appointments", ["view"], ["groupclass"])
        | _on("appointments", ["view", "change"], ["classplace"])
    ),
    "Manager": (
        BEFORE_CLINICAL_RECORDS["Manager"]
        | _on("treatments", ["view"], CLINICAL_MODELS)
        | _on("treatments", ["change"], ["treatmentplan", "planphase"])
        | MESSAGE_LOG
        | REPLIES_HANDLED
        | _on("notifications", ["view", "change"], ["messagetemplate", "messagingsettings"])
        | _on("audit", ["view"], ["auditentry"])  # the audit log, read only
        # Sign-in security: the two-factor policy, unlocking accounts, lost phones' devices.
        | _on("accounts", ["view", "change"], ["securitypolicy"])
        | _on("axes", ["view", "delete"], ["accessattempt"])
        | _on("otp_totp", ["view", "delete"], ["totpdevice"])
        | WAITLIST_KEPT
        | _on("treatments", ["view", "change"], CLINICAL_SETTINGS)
        | OFFERS_MADE
        | _on("waitlist", ["view", "add", "change"], ["offerpolicy"])
        | _on("treatments", ["view"], CLINICAL_READINGS)
        | EXERCISE_LIBRARY
        | CLASSES_KEPT
    ),
}


def held_by(group_name: str) -> set[tuple[str, str]]:
    return set(
        Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )


def migrate_accounts_to(migration_name: str | None) -> None:
    """Migrate the accounts app to `migration_name` (None: its latest), for real."""
    executor = MigrationExecutor(connection)
    target = (
        ("accounts", migration_name)
        if migration_name
        else executor.loader.graph.leaf_nodes("accounts")[0]
    )
    executor.migrate([target])


class TestThePermissionSets:
    def test_the_definition_is_the_issues_sets(self):
        for group_name, expected in EXPECTED.items():
            assert permission_keys(group_name) == expected, group_name

    def test_one_set_per_staff_role(self):
        assert set(ROLE_PERMISSIONS) == set(GROUP_OF_ROLE.values())

    def test_nobody_may_delete_patients_or_appointments(self):
        for group_name in ROLE_PERMISSIONS:
            held = permission_keys(group_name)
            assert ("patients", "delete_patient") not in held
            assert ("appointments", "delete_appointment") not in held

    def test_nobody_may_delete_a_clinical_record(self):
        for group_name in ROLE_PERMISSIONS:
            assert not {
                codename
                for app_label, codename in permission_keys(group_name)
                if app_label == "treatments" and codename.startswith("delete_")
            }, group_name

    def test_every_clinical_model_is_granted_to_practitioners_and_managers(self):
        """A new model of `treatments` must be given to the roles that keep the records."""
        clinical_models = [
            m._meta.model_name for m in django_apps.get_app_config("treatments").get_models()
        ]
        kept = CLINICAL_MODELS + CLINICAL_READINGS + CLINICAL_SETTINGS + ["exercise"]
        assert sorted(clinical_models) == sorted(kept)
        for group_name in ("Practitioner", "Manager"):
            for model in kept:
                assert ("treatments", f"view_{model}") in permission_keys(group_name)

    def test_the_manager_configures_every_model_of_practice(self):
        """A new practice model must be given to the manager (and read by the others),
        unless it has no permissions at all: the database keeps it (the diary versions)."""
        practice_models = [
            m._meta.model_name
            for m in django_apps.get_app_config("practice").get_models()
            if m._meta.default_permissions
        ]
        assert sorted(practice_models) == sorted(PRACTICE_MODELS)

    def test_the_migrations_grant_exactly_the_sets_and_are_reversible(self, db):
        migrate_accounts_to("0003_staff_group_permissions")
        for group_name, before in BEFORE_CLINICAL_RECORDS.items():
            assert held_by(group_name) == before, f"{group_name} after reversing 0004"

        migrate_accounts_to("0002_staff_groups")
        for group_name in EXPECTED:
            assert not held_by(group_name), f"{group_name} keeps permissions after reversal"

        migrate_accounts_to(None)

        for group_name, expected in EXPECTED.items():
            assert held_by(group_name) == expected, group_name
            assert held_by(group_name) == permission_keys(group_name), group_name

    def test_the_migration_makes_the_groups_and_permissions_it_needs(self, db):
        """On a database whose groups and staff permissions are gone (as after a flush, or
        when post_migrate has not run yet) the migration's own code re-makes them."""
        Group.objects.filter(name__in=EXPECTED).delete()
        Permission.objects.filter(
            content_type__app_label__in=[
                "practice",
                "patients",
                "treatments",
                "notifications",
                "audit",
                "axes",
                "otp_totp",
            ]
        ).delete()

        for name in GRANTING_MIGRATIONS:
            migration = import_module(f"accounts.migrations.{name}")
            migration.grant(django_apps, SimpleNamespace(connection=connection))

        for group_name, expected in EXPECTED.items():
            assert held_by(group_name) == expected, group_name

    def test_sync_role_group_restores_exactly_the_set(self, db):
        group = Group.objects.get_or_create(name="Reception")[0]
        group.permissions.add(Permission.objects.get(codename="delete_patient"))

        sync_role_group("Reception")

        assert held_by("Reception") == EXPECTED["Reception"]


class TestReceptionNeverGetsClinicalRecords:
    """Clinical records live in the `treatments` app (notes, plans, outcome measures,
    intake answers). The assertions are on the app label, so they keep their meaning when
    the app's models arrive."""

    def test_the_reception_group_holds_nothing_of_treatments(self, reception_staff_user):
        group = Group.objects.get(name="Reception")
        assert not group.permissions.filter(content_type__app_label="treatments").exists()
        assert not any(app_label == "treatments" for app_label, _ in permission_keys("Reception"))
        assert not reception_staff_user.has_module_perms("treatments")

    def test_not_even_when_treatments_models_appear(self, reception_staff_user):
        """Clinical-record permissions in the database are granted to reception neither by
        the migrations nor by the role definition."""
        note = ContentType.objects.get_or_create(app_label="treatments", model="treatmentnote")[0]
        for action in ("view", "add", "change", "delete"):
            Permission.objects.get_or_create(
                content_type=note,
                codename=f"{action}_treatmentnote",
                defaults={"name": f"Can {action} treatment note"},
            )
        for name in GRANTING_MIGRATIONS:
            migration = import_module(f"accounts.migrations.{name}")
            migration.grant(django_apps, SimpleNamespace(connection=connection))
        sync_role_group("Reception")

        assert not Group.objects.filter(
            name="Reception", permissions__content_type__app_label="treatments"
        ).exists()
        reception = type(reception_staff_user).objects.get(pk=reception_staff_user.pk)
        assert not reception.has_perm("treatments.view_treatmentnote")
        assert not reception.has_module_perms("treatments")

    def test_nor_any_real_treatments_model(self, reception_staff_user):
        for model in django_apps.get_app_config("treatments").get_models():
            opts = model._meta
            assert not reception_staff_user.has_perm(f"treatments.view_{opts.model_name}")

    def test_the_admin_index_shows_reception_no_treatments_or_accounts(self, reception_staff):
        response = reception_staff.get(reverse("admin:index"))

        assert response.status_code == 200
        shown = {app["app_label"] for app in response.context["app_list"]}
        assert shown == {"patients", "appointments", "practice", "notifications", "waitlist"}

    @pytest.mark.parametrize(
        "model", ["intake", "treatmentplan", "treatmentnote", "outcomemeasure"]
    )
    def test_every_clinical_page_of_the_admin_is_forbidden(self, reception_staff, model):
        assert (
            reception_staff.get(reverse(f"admin:treatments_{model}_changelist")).status_code == 403
        )
        assert reception_staff.get(reverse(f"admin:treatments_{model}_add")).status_code == 403


class TestReceptionInTheAdmin:
    def test_opens_the_patient_list_and_add_page(self, reception_staff):
        assert reception_staff.get(reverse("admin:patients_patient_changelist")).status_code == 200
        assert reception_staff.get(reverse("admin:patients_patient_add")).status_code == 200

    @pytest.mark.parametrize(
        "model",
        [
            "location",
            "room",
            "service",
            "practitioner",
            "workinghours",
            "leave",
            "extrahours",
            "bookingrules",
        ],
    )
    def test_reads_the_practice_configuration_without_changing_it(self, reception_staff, model):
        response = reception_staff.get(reverse(f"admin:practice_{model}_changelist"))

        assert response.status_code == 200
        assert response.context["has_add_permission"] is False
        assert (
            response.context["cl"].model_admin.has_change_permission(response.wsgi_request) is False
        )

    @pytest.mark.parametrize(
        "singleton", ["practice.BookingRules", "notifications.MessagingSettings"]
    )
    def test_cannot_add_the_clinic_wide_settings_even_when_none_exist(
        self, reception_staff, singleton
    ):
        model = django_apps.get_model(singleton)
        model.objects.all().delete()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")

        assert reception_staff.get(url).status_code == 403
        assert reception_staff.post(url, {}).status_code == 403
        assert not model.objects.exists()

    def test_sees_a_location_read_only(self, reception_staff, location):
        url = reverse("admin:practice_location_change", args=[location.pk])

        response = reception_staff.get(url)
        assert response.status_code == 200
        assert response.context["has_change_permission"] is False
        assert reception_staff.post(url, {"name": "Renamed"}).status_code == 403
        location.refresh_from_db()
        assert location.name == "Richmond"

    def test_cannot_add_a_location(self, reception_staff):
        url = reverse("admin:practice_location_add")

        assert reception_staff.get(url).status_code == 403
        response = reception_staff.post(
            url, {"name": "Fitzroy", "time_zone": "Australia/Melbourne"}
        )
        assert response.status_code == 403
        assert not Location.objects.filter(name="Fitzroy").exists()

    def test_cannot_delete_a_patient(self, reception_staff, patient):
        url = reverse("admin:patients_patient_delete", args=[patient.pk])

        assert reception_staff.get(url).status_code == 403
        assert reception_staff.post(url, {"post": "yes"}).status_code == 403
        listing = reception_staff.get(reverse("admin:patients_patient_changelist"))
        actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
        assert "delete_selected" not in actions
        patient.refresh_from_db()  # still there

    def test_cannot_open_the_users_or_groups(self, reception_staff):
        assert reception_staff.get(reverse("admin:accounts_user_changelist")).status_code == 403
        assert reception_staff.get(reverse("admin:auth_group_changelist")).status_code == 403

    def test_is_reception_to_the_api_too(self, reception_staff_user):
        assert roles_of(reception_staff_user) == {Role.RECEPTION}


class TestManagerInTheAdmin:
    def test_adds_a_location(self, manager_staff):
        response = manager_staff.post(
            reverse("admin:practice_location_add"),
            {
                "name": "Fitzroy",
                "time_zone": "Australia/Melbourne",
                "is_active": "on",
                "rooms-TOTAL_FORMS": "0",
                "rooms-INITIAL_FORMS": "0",
            },
        )

        assert response.status_code == 302
        assert Location.objects.filter(name="Fitzroy").exists()

    def test_edits_the_booking_rules(self, manager_staff):
        from practice.models import BookingRules

        rules = BookingRules.current()
        response = manager_staff.post(
            reverse("admin:practice_bookingrules_change", args=[rules.pk]),
            {
                "slot_grid_minutes": "30",
                "online_lead_time_minutes": "60",
                "online_horizon_days": "28",
                "cancellation_window_hours": "48",
                "new_patients_start_with_assessment": "on",
            },
        )

        assert response.status_code == 302
        rules.refresh_from_db()
        assert (rules.slot_grid_minutes, rules.cancellation_window_hours) == (30, 48)

    def test_manages_logins_and_reads_groups(self, manager_staff):
        assert manager_staff.get(reverse("admin:accounts_user_changelist")).status_code == 200
        assert manager_staff.get(reverse("admin:accounts_user_add")).status_code == 200
        assert manager_staff.get(reverse("admin:auth_group_changelist")).status_code == 200
        assert manager_staff.get(reverse("admin:auth_group_add")).status_code == 403

    def test_cannot_delete_a_patient(self, manager_staff, patient):
        url = reverse("admin:patients_patient_delete", args=[patient.pk])

        assert manager_staff.post(url, {"post": "yes"}).status_code == 403

    def test_reads_clinical_records_but_writes_no_notes(self, manager_staff):
        for model in ("intake", "treatmentplan", "treatmentnote", "outcomemeasure"):
            url = reverse(f"admin:treatments_{model}_changelist")
            assert manager_staff.get(url).status_code == 200, model
        assert manager_staff.get(reverse("admin:treatments_treatmentnote_add")).status_code == 403
        assert manager_staff.get(reverse("admin:treatments_intake_add")).status_code == 403


class TestPractitionerInTheAdmin:
    def test_reads_patients_but_does_not_add_them(self, practitioner_staff):
        assert (
            practitioner_staff.get(reverse("admin:patients_patient_changelist")).status_code == 200
        )
        assert practitioner_staff.get(reverse("admin:patients_patient_add")).status_code == 403

    def test_reads_the_practice_configuration_only(self, practitioner_staff):
        assert (
            practitioner_staff.get(reverse("admin:practice_service_changelist")).status_code == 200
        )
        assert practitioner_staff.get(reverse("admin:practice_service_add")).status_code == 403

    def test_keeps_clinical_records(self, practitioner_staff):
        response = practitioner_staff.get(reverse("admin:index"))

        shown = {app["app_label"] for app in response.context["app_list"]}
        assert "treatments" in shown
        for model in ("intake", "treatmentplan", "treatmentnote", "outcomemeasure"):
            url = reverse(f"admin:treatments_{model}_changelist")
            assert practitioner_staff.get(url).status_code == 200, model


class TestTheAdminNeedsIsStaff:
    def test_a_group_member_without_is_staff_is_sent_to_the_login(self, db):
        user = UserFactory(email="nostaff@clinic.example", is_staff=False)
        user.groups.add(sync_role_group("Reception"))
        client = admin_client(user)

        response = client.get(reverse("admin:patients_patient_changelist"))

        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]

    def test_is_staff_without_a_group_may_do_nothing(self, db):
        client = admin_client(UserFactory(email="bare@clinic.example", is_staff=True))

        assert client.get(reverse("admin:patients_patient_changelist")).status_code == 403
