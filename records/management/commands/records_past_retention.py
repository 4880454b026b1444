import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.emails import normalize_email
from accounts.models import User
from accounts.roles import Role, roles_of
from records.retention import PastRetention, review_retention

COLUMNS = ("Patient", "Name", "Born", "Last entry", "Retention until", "Archived")


class Command(BaseCommand):
    help = (
        "List the patients whose records are past their retention period (seven years "
        "after the last entry, and at least until the patient turned 25). Lists only: "
        "nothing is deleted. For managers; the review is written to the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as",
            dest="manager_email",
            required=True,
            metavar="EMAIL",
            help="The login of the manager doing the review.",
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="JSON instead of a table."
        )

    def handle(self, *args, manager_email: str, as_json: bool, **options) -> None:
        manager = User.objects.filter(email=normalize_email(manager_email)).first()
        if manager is None or Role.MANAGER not in roles_of(manager):
            raise CommandError(f"{manager_email} is not a manager's login: only managers review.")
        found = review_retention(manager=manager, today=timezone.localdate())
        rows = [_row(item) for item in found]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            self.stdout.write(_as_table(rows) if rows else "No record is past retention.")


def _row(item: PastRetention) -> dict:
    patient = item.patient
    return {
        "patient": patient.pk,
        "name": patient.full_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "last_entry": item.last_entry.isoformat(),
        "retention_until": item.retention_until.isoformat(),
        "archived": patient.is_archived,
    }


def _as_table(rows: list[dict]) -> str:
    cells = [
        [
            str(value) if not isinstance(value, bool) else ("yes" if value else "no")
            for value in row.values()
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    lines = [list(COLUMNS), ["-" * width for width in widths], *cells]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
