"""What each staff role may do: the one definition of the staff groups' permissions.

The roles of `accounts.roles` are the Django groups *Reception*, *Practitioner* and *Manager*.
Migrations `accounts.0003_staff_group_permissions` and `accounts.0004_clinical_record_permissions`
give each group exactly the permissions below (each keeps a frozen copy: a migration must not
follow live code). When a role's set changes, change it here *and* add a migration that
applies the new set, so that the databases follow; `tests/admin/test_roles.py` checks that
the two agree.

To use the admin at all a member of staff needs `is_staff` on their login as well as their
group: the group says what they may do there, `is_staff` lets them in. (Without `is_staff`
a Reception member still works as reception through the API.) Superusers may do anything
and count as managers.

Clinical records (the `treatments` app: intake answers and red-flag clearances, plans and
their phases, notes with their exercise logs and addenda, outcome measures) are for
practitioners, who write them, and managers, who read them and may adjust plans; nobody may
delete one (signed notes are final in the database too). Which patients' records a
practitioner sees is `treatments.selectors`: the permissions say what a role may do, the
selectors to whose records. Reception must never get any of them: the sets are allow-lists
of named models, so new models of any app are granted to no role until listed here.
"""

from collections.abc import Iterable

VIEW = ("view",)
EDIT = ("view", "add", "change")  # no delete: patients and appointments are never hard-deleted
ALL = ("view", "add", "change", "delete")

# How the clinic is set up (the manager's domain); everyone else reads it.
PRACTICE_CONFIG = (
    "practice.location",
    "practice.room",
    "practice.service",
    "practice.practitioner",
    "practice.workinghours",
    "practice.break",
    "practice.leave",
    "practice.extrahours",
    "practice.bookingrules",
)

# Clinical records: never deleted, never granted to reception.
CLINICAL_RECORDS = (
    "treatments.intake",
    "treatments.redflagclearance",
    "treatments.treatmentplan",
    "treatments.planphase",
    "treatments.treatmentnote",
    "treatments.exerciseentry",
    "treatments.addendum",
    "treatments.outcomemeasure",
    "treatments.riskscreening",  # (0015)
    "treatments.homeexercise",  # the home programme's prescriptions (0017)
)
# The patients' logs of their home programmes: they write them (through the API, which asks
# no group permission); practitioners and managers read them (0017).
CLINICAL_READINGS = ("treatments.homeexerciselog",)
# What a manager may change of them: a plan's goals, status and phases' planned sessions.
CLINICAL_PLANS = ("treatments.treatmentplan", "treatments.planphase")

# group name -> {"app_label.model_name": actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Reception": {
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        # Group classes: schedule and cancel them, book patients in, mark attendance (0017).
        "appointments.groupclass": EDIT,
        "appointments.classplace": ("view", "change"),
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        # Nothing of `treatments`, ever: reception does not read clinical records.
        "notifications.notification": VIEW,  # the message log (accounts.0005)
        "notifications.reply": ("view", "change"),  # patients' SMS; marked handled (0013)
        "waitlist.waitlistentry": EDIT,  # put patients on it, end entries (0014)
        # Offers of freed time: see them, offer by hand (add), withdraw (change) (0015).
        "waitlist.waitlistoffer": EDIT,
        "waitlist.offerpolicy": VIEW,
    },
    "Practitioner": {
        "patients.patient": VIEW,
        "appointments.appointment": ("view", "change"),
        # Their classes' attendees: they mark who came (0017).
        "appointments.groupclass": VIEW,
        "appointments.classplace": ("view", "change"),
        **dict.fromkeys(PRACTICE_CONFIG, VIEW),
        # They write the records of the patients they treat (accounts.0004 grants these).
        **dict.fromkeys(CLINICAL_RECORDS, EDIT),
        **dict.fromkeys(CLINICAL_READINGS, VIEW),
        "notifications.notification": VIEW,
        "notifications.reply": VIEW,
        "waitlist.waitlistentry": VIEW,
        "treatments.importantchange": VIEW,  # the thresholds of important change (0015)
        "treatments.exercise": EDIT,  # the clinic's exercise library (0017)
    },
    "Manager": {
        **dict.fromkeys(PRACTICE_CONFIG, ALL),
        "patients.patient": EDIT,
        "appointments.appointment": EDIT,
        "appointments.groupclass": EDIT,
        "appointments.classplace": ("view", "change"),
        "accounts.user": EDIT,
        "auth.group": VIEW,
        # They read every record and may adjust plans; notes stay the practitioners' own.
        **dict.fromkeys((*CLINICAL_RECORDS, *CLINICAL_READINGS), VIEW),
        **dict.fromkeys(CLINICAL_PLANS, ("view", "change")),
        "notifications.notification": VIEW,
        "notifications.reply": ("view", "change"),
        "waitlist.waitlistentry": EDIT,
        "waitlist.waitlistoffer": EDIT,
        "waitlist.offerpolicy": ("view", "add", "change"),  # the offer policy (0015)
        "notifications.messagetemplate": ("view", "change"),
        "notifications.messagingsettings": ("view", "change"),
        "treatments.importantchange": ("view", "change"),  # the clinic's thresholds (0015)
        "treatments.exercise": EDIT,  # the clinic's exercise library (0017)
        "audit.auditentry": VIEW,  # the audit log (accounts.0006)
        # Sign-in security (accounts.0008): the two-factor policy; unlocking a locked-out
        # account (deleting its failed attempts); removing a lost phone's device.
        "accounts.securitypolicy": ("view", "change"),
        "axes.accessattempt": ("view", "delete"),
        "otp_totp.totpdevice": ("view", "delete"),
    },
}


def permission_keys(role_group: str) -> set[tuple[str, str]]:
    """The role's permissions as (app_label, codename) pairs, e.g. ("patients", "add_patient")."""
    return _keys(ROLE_PERMISSIONS[role_group])


def _keys(grants: dict[str, Iterable[str]]) -> set[tuple[str, str]]:
    keys = set()
    for model_key, actions in grants.items():
        app_label, model_name = model_key.split(".")
        keys.update((app_label, f"{action}_{model_name}") for action in actions)
    return keys


def sync_role_group(role_group: str):
    """Create the role's group if it is missing and give it exactly its permissions.

    The migration does this once per database; tests call it because a transactional
    test's flush removes the groups (not the permissions, which post_migrate re-creates).
    """
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    keys = permission_keys(role_group)
    match = Q(pk__in=[])
    for app_label, codename in keys:
        match |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(match).select_related("content_type"))
    missing = keys - {(p.content_type.app_label, p.codename) for p in permissions}
    if missing:
        raise LookupError(f"Permissions missing from the database: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=role_group)
    group.permissions.set(permissions)
    return group
