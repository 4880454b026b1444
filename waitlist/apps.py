from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (freed time is offered; SMS answers to offers)
