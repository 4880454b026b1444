"""Bench-only Celery tasks: the floor that bench/messages.py measures the message drain
against. Loaded by the benchmark's worker only (`celery -A clinic worker -I bench.celery_noop`);
the product never imports it."""

from celery import shared_task


@shared_task(name="bench.noop", ignore_result=True)
def noop(number: int) -> None:
    """Nothing: what a task costs the worker and the broker, and no more."""


@shared_task(name="bench.noop_fanout", ignore_result=True)
def noop_fanout(count: int) -> int:
    """Enqueue `count` no-op tasks, as `dispatch_due` enqueues one send task per message."""
    for number in range(count):
        noop.delay(number)
    return count
