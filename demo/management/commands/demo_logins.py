import json
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.logins import ensure_demo_logins


class Command(BaseCommand):
    help = (
        "Development only (DEBUG=1): create a login for each role of the demo clinic, with "
        "development passwords, and print them. Run after seed_demo; `make run` does both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # From the environment, as `createsuperuser --noinput` reads them, so that a
        # password of one's own does not show in the process list.
        parser.add_argument(
            "--superuser-email",
            default=os.environ.get("DJANGO_SUPERUSER_EMAIL", "manager@clinic.example"),
        )
        parser.add_argument(
            "--superuser-password",
            default=os.environ.get("DJANGO_SUPERUSER_PASSWORD", "clinic-demo-manager"),
        )
        parser.add_argument("--json", action="store_true", help="One JSON list, for tools.")

    def handle(self, *args, superuser_email: str, superuser_password: str, **options) -> None:
        try:
            logins = ensure_demo_logins(
                superuser_email=superuser_email, superuser_password=superuser_password
            )
        except ImproperlyConfigured as refusal:
            raise CommandError(str(refusal)) from refusal
        if options["json"]:
            self.stdout.write(json.dumps([login.as_dict() for login in logins]))
            return
        for login in logins:
            self.stdout.write(f"{login.role:40} {login.email:40} {login.password}")
