"""Celery's entry points for the waitlist: thin, safe to run twice."""

from celery import shared_task

from . import offers, services


@shared_task(ignore_result=True)
def end_expired_entries() -> int:
    """Beat's sweep of entries past their latest date; safe to run twice (it ends only
    open entries)."""
    return services.end_expired_entries()


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def offer_freed_time() -> dict[str, int]:
    """Enqueued when a change that freed time commits, and beat's sweep every minute (the
    safety net for a lost enqueue or a worker that died): end expired offers and pass
    their time on, then offer the freed time not yet processed (rows claimed with SKIP
    LOCKED, so two runs at once share the work)."""
    ended = offers.sweep_offers()
    processed = offers.process_freed_time()
    return {"ended": ended, "processed": processed}
