"""Benchmark the waitlist: how much freed time it fills, and how fast, beside no waitlist.

    python tools/devenv.py exec -- python bench/waitlist_fill.py [--days 30] [--seed 7]

On a database of its own (`clinic_bench_waitlist` on DATABASE_URL's server, made afresh),
it seeds the demo clinic (`demo.seed`: its lived history, its cancellations and its
waitlist) and replays the last `--days` of the demo's cancellations, in the order they
happened, on a simulated clock (every service takes `now`):

- **No waitlist** (the baseline): a freed time counts as filled when the demo's own diary
  booked it again before it began (someone else booked it online or at the desk); the
  time to fill is from the cancellation to that booking.
- **With the waitlist**: those later bookings are set aside (they are what the waitlist
  competes with), and each cancellation's time goes through the real code: the freed time
  is offered (`waitlist.offers.process_freed_time`, quiet hours respected: a cancellation at
  night is offered in the morning), and each offered patient answers by the seeded model
  below — takes it (`accept_offer`), passes (`decline_offer`, the next candidate is
  offered), or never answers (the sweep expires the offer at its expiry and passes it on).
  A freed time counts as filled by whichever came first, the waitlist's booking or the
  diary's own, with its time to fill.

The patients' answers (`--accept`, `--decline`, the rest never answer) come after an
exponential delay (`--answer-minutes` on average); an answer after the offer's expiry is no
answer. The whole replay runs in a transaction that is rolled back: the database keeps the
demo as seeded. It writes bench/results/waitlist_fill.json.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import statistics
import sys
import time as clock
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, setup_django, with_database
from bench.report import RESULTS, Row, print_table, write

DATABASE = "clinic_bench_waitlist"


@dataclass
class Freed:
    """A cancelled booking of the replayed month: the time it freed, and who filled it."""

    appointment_id: int
    practitioner_id: int
    location_id: int
    start: datetime
    blocked_until: datetime
    cancelled_at: datetime
    natural: datetime | None = None  # when the diary booked it again, if it did
    by_waitlist: datetime | None = None  # when an offer of it was accepted, if one was

    @property
    def filled_at(self) -> datetime | None:
        times = [moment for moment in (self.natural, self.by_waitlist) if moment is not None]
        return min(times) if times else None


def month_of_cancellations(days: int, now: datetime) -> list[Freed]:
    """The demo's cancellations of the last `days` that freed time still ahead of them, each
    with the diary's own later booking of that time (if any)."""
    from appointments.models import CANCELLED_STATUSES, OCCUPYING_STATUSES, Appointment

    cancelled = Appointment.objects.filter(
        status__in=CANCELLED_STATUSES,
        cancelled_at__gte=now - timedelta(days=days),
        cancelled_at__lt=now,
    ).order_by("cancelled_at", "pk")
    freed = []
    for appointment in cancelled:
        if appointment.start <= appointment.cancelled_at:
            continue
        rebooked = (
            Appointment.objects.filter(
                practitioner_id=appointment.practitioner_id,
                status__in=OCCUPYING_STATUSES,
                start__lt=appointment.blocked_until,
                blocked_until__gt=appointment.start,
                created_at__gt=appointment.cancelled_at,
                created_at__lt=appointment.start,
            )
            .order_by("created_at")
            .first()
        )
        freed.append(
            Freed(
                appointment_id=appointment.pk,
                practitioner_id=appointment.practitioner_id,
                location_id=appointment.location_id,
                start=appointment.start,
                blocked_until=appointment.blocked_until,
                cancelled_at=appointment.cancelled_at,
                natural=rebooked.created_at if rebooked else None,
            )
        )
    return freed


def diary_rebookings(freed: list[Freed]) -> list[int]:
    """The diary's own later bookings of the freed times: set aside for the waitlist's run."""
    from appointments.models import OCCUPYING_STATUSES, Appointment

    ids = []
    for slot in freed:
        if slot.natural is None:
            continue
        ids += Appointment.objects.filter(
            practitioner_id=slot.practitioner_id,
            status__in=OCCUPYING_STATUSES,
            start__lt=slot.blocked_until,
            blocked_until__gt=slot.start,
            created_at__gt=slot.cancelled_at,
        ).values_list("pk", flat=True)
    return ids


class Replay:
    """The month on a simulated clock: events in time order, each through the real code."""

    def __init__(self, rng: random.Random, *, accept: float, decline: float, answer_minutes: float):
        self.rng = rng
        self.accept, self.decline, self.answer_minutes = accept, decline, answer_minutes
        self.events: list[tuple[datetime, int, str, int]] = []
        self.seen_offers: set[int] = set()
        self.counter = 0
        self.outcomes = {"offered": 0, "accepted": 0, "declined": 0, "unanswered": 0, "taken": 0}
        self.answers: dict[int, str] = {}

    def at(self, moment: datetime, kind: str, subject: int) -> None:
        self.counter += 1
        heapq.heappush(self.events, (moment, self.counter, kind, subject))

    def run(self, freed: list[Freed]) -> None:
        from django.utils import timezone

        from kernel.errors import DomainError
        from notifications.models import MessagingSettings
        from notifications.services import next_allowed_time
        from waitlist.models import FreedTime, WaitlistOffer
        from waitlist.offers import accept_offer, decline_offer, process_freed_time, sweep_offers

        rules = MessagingSettings.current()
        zone = timezone.get_default_timezone()
        for slot in freed:
            self.at(slot.cancelled_at, "freed", slot.appointment_id)
        by_appointment = {slot.appointment_id: slot for slot in freed}
        while self.events:
            now, _, kind, subject = heapq.heappop(self.events)
            if kind == "freed":
                slot = by_appointment[subject]
                FreedTime.objects.create(
                    practitioner_id=slot.practitioner_id,
                    location_id=slot.location_id,
                    start=slot.start,
                    end=slot.blocked_until,
                )
                # In quiet hours the row waits for the morning, as beat's sweep finds it.
                process_freed_time(now=next_allowed_time(now, zone, rules))
            elif kind == "answer":
                offer = WaitlistOffer.objects.get(pk=subject)
                try:
                    if self.answers[subject] == "accept":
                        accept_offer(offer=offer, now=now)
                        self.outcomes["accepted"] += 1
                    else:
                        decline_offer(offer=offer, now=now)
                        self.outcomes["declined"] += 1
                except DomainError:
                    self.outcomes["taken"] += 1
            elif kind == "sweep":
                sweep_offers(now=now)
            self._follow_new_offers()

    def _follow_new_offers(self) -> None:
        """Draw each new offer's answer: when, and what (none: the sweep at its expiry)."""
        from waitlist.models import WaitlistOffer

        for offer in WaitlistOffer.objects.exclude(pk__in=self.seen_offers).order_by("pk"):
            self.seen_offers.add(offer.pk)
            self.outcomes["offered"] += 1
            draw = self.rng.random()
            delay = timedelta(minutes=self.rng.expovariate(1 / self.answer_minutes))
            answer_at = offer.sent_at + delay
            if draw < self.accept + self.decline and answer_at < offer.expires_at:
                self.answers[offer.pk] = "accept" if draw < self.accept else "decline"
                self.at(answer_at, "answer", offer.pk)
            else:
                self.outcomes["unanswered"] += 1
                self.at(offer.expires_at, "sweep", offer.pk)


def summary(freed: list[Freed], *, waitlist: bool) -> dict:
    """The share of the freed times filled, and the median time to fill them."""
    fills = [slot.filled_at if waitlist else slot.natural for slot in freed]
    filled = [at - slot.cancelled_at for slot, at in zip(freed, fills, strict=True) if at]
    minutes = [delta.total_seconds() / 60 for delta in filled]
    return {
        "freed": len(freed),
        "filled": len(minutes),
        "share_filled": round(len(minutes) / len(freed), 3) if freed else 0.0,
        "median_minutes_to_fill": round(statistics.median(minutes), 1) if minutes else None,
    }


def describe(result: dict) -> str:
    median = result["median_minutes_to_fill"]
    when = f"median {median / 60:.1f} h to fill" if median is not None else "none filled"
    return f"{result['share_filled']:.0%} filled ({result['filled']}/{result['freed']}), {when}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30, help="how much of the demo to replay")
    parser.add_argument("--seed", type=int, default=7, help="the patients' answers")
    parser.add_argument("--accept", type=float, default=0.5, help="share who take an offer")
    parser.add_argument("--decline", type=float, default=0.2, help="share who pass")
    parser.add_argument("--answer-minutes", type=float, default=45.0, help="mean answer delay")
    parser.add_argument("--db-name", default=DATABASE)
    parser.add_argument("--output", type=Path, default=RESULTS / "waitlist_fill.json")
    args = parser.parse_args(argv)
    server = os.environ.get("DATABASE_URL")
    if not server:
        raise SystemExit("DATABASE_URL is not set; run through `python tools/devenv.py exec --`.")
    create_database(server, args.db_name, drop_first=True)
    # The demo delivers its past messages to the outbox; the replay's stay pending.
    setup_django(with_database(server, args.db_name), NOTIFICATIONS_DELIVERY="outbox")

    from django.db import transaction
    from django.utils import timezone

    from appointments.models import Appointment, Status
    from demo.seed import seed_demo

    began = clock.perf_counter()
    seeded = seed_demo()
    now = seeded.at or timezone.now()
    freed = month_of_cancellations(args.days, now)
    without = summary(freed, waitlist=False)
    replay = Replay(
        random.Random(args.seed),
        accept=args.accept,
        decline=args.decline,
        answer_minutes=args.answer_minutes,
    )
    with transaction.atomic():
        Appointment.objects.filter(pk__in=diary_rebookings(freed)).update(
            status=Status.CANCELLED, cancelled_at=now
        )
        replay.run(freed)
        from waitlist.models import OfferStatus, WaitlistOffer

        for slot in freed:
            accepted = (
                WaitlistOffer.objects.filter(
                    status=OfferStatus.ACCEPTED,
                    practitioner_id=slot.practitioner_id,
                    start__lt=slot.blocked_until,
                    end__gt=slot.start,
                    sent_at__gte=slot.cancelled_at,
                )
                .order_by("ended_at")
                .first()
            )
            slot.by_waitlist = accepted.ended_at if accepted else None
        transaction.set_rollback(True)
    with_waitlist = summary(freed, waitlist=True)
    ratio = (
        round(with_waitlist["share_filled"] / without["share_filled"], 2)
        if without["share_filled"]
        else None
    )
    rows = [
        Row(
            workload=f"waitlist fill: the demo's last {args.days} days of cancellations "
            f"({len(freed)} freed times), replayed",
            figure=describe(with_waitlist),
            baseline=f"no waitlist: {describe(without)}",
            ratio=ratio,
            target="-",
            passed=None,
        )
    ]
    print_table(rows)
    print(f"offers: {replay.outcomes}; {clock.perf_counter() - began:.0f} s")
    write(
        args.output,
        "waitlist.fill",
        rows,
        database=args.db_name,
        days=args.days,
        model={
            "accept": args.accept,
            "decline": args.decline,
            "answer_minutes": args.answer_minutes,
            "seed": args.seed,
        },
        with_waitlist=with_waitlist,
        without_waitlist=without,
        offers=replay.outcomes,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
