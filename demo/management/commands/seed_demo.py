from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.seed import DEFAULT_SEED, seed_demo


class Command(BaseCommand):
    help = (
        "Load a demo clinic: two Melbourne locations, services, seven practitioners with "
        "rotas, 50 patients with six months of past and four weeks of future appointments. "
        "Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="Random seed; the same seed on the same day gives the same clinic.",
        )

    def handle(self, *args, seed: int, **options) -> None:
        try:
            summary = seed_demo(seed=seed)
        except ImproperlyConfigured as refusal:
            raise CommandError(str(refusal)) from refusal
        for line in summary.lines():
            self.stdout.write(line)
