from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waitlist"

    def ready(self) -> None:
        # `receivers`: freed time is offered; SMS answers to offers. `tasks`: registered in
        # every process, web ones too, as the offers enqueue their task by its name
        # (`offers.enqueue_processing`) and Celery finds it, eager or not, only once its
        # module is loaded (a worker's autodiscovery is not the web's).
        from . import receivers, tasks  # noqa: F401
