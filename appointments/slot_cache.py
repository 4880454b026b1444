"""The availability answer, kept in the cache (Redis) and computed once per state of the diary.

An answer is keyed by the question as it was sent, the kind of caller (patients online or
staff) and the diary versions of every location (`practice.DiaryVersion`), which the
database moves on in the transaction of any change that can alter free slots. The versions
are read first, in a query of their own, and everything else after them (the question's
service, practitioner and location too): under READ COMMITTED every later query sees at
least what the versions said, so a kept answer may hold data newer than its key, never
older. All locations' versions, not only those asked about: a practitioner booked at one
location is busy at every other.

What is kept depends on the clock in one way only: every free start of the dates, each
already rendered as its JSON object in its location's zone, sorted by start, leaving out the
times of slot holds live when it was computed. A hold made or ended moves the diary version
on like a booking; a hold that expires does not (nothing writes then), so a kept answer that
left holds out is used only until the first of them expires, and computed again after. The
bounds that move with time (after now; for patients the lead time and the horizon) are
applied when the answer is read, by bisecting the starts, so a kept answer stays right as
time passes.

Inside a transaction the cache is not used: the transaction may have changed the diary
itself, which the versions only say once it commits. A cache that does not answer is
skipped: the answer is computed as if nothing were kept.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from hashlib import blake2b
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from redis.exceptions import RedisError

from practice.models import DIARY_VERSION_TABLE, BookingRules, Location, Practitioner, Service

from .availability import free_starts, is_offered, start_bounds

logger = logging.getLogger(__name__)

# Change it when what is kept, or how it is computed, changes: old entries are then unread.
KEY_PREFIX = "availability:3"
# Entries are never stale by time (their key changes with the diary); the TTL frees the
# superseded ones and bounds how long an entry computed by older code is served.
ENTRY_SECONDS = 10 * 60
# A month of twenty practitioners with empty diaries renders to about 2 MB; larger answers
# are computed each time rather than fill Redis.
MAX_ENTRY_BYTES = 4 * 1024 * 1024
# Raw SQL: on a hit this is the only query, and the ORM would take longer to write it than
# PostgreSQL to run it.
_VERSIONS = f"SELECT location_id, version FROM {DIARY_VERSION_TABLE} ORDER BY location_id"

_EMPTY = b'{"slots":[]}'


@dataclass(frozen=True, slots=True)
class Question:
    """Free slots asked for: `service` on the local dates from `start_date` to `end_date`,
    of one practitioner or at one location when given."""

    service: Service
    start_date: date
    end_date: date
    practitioner: Practitioner | int | None = None
    location: Location | int | None = None


class _Answer(NamedTuple):
    """Every free start of a question's dates: `starts` (epoch seconds, ascending), `body`
    the slots' JSON objects joined by commas, slot k at body[offsets[k]:offsets[k+1] - 1];
    and the booking rules' online bounds it was computed under, in seconds."""

    starts: array
    offsets: array
    body: bytes
    lead_time: int
    horizon: int
    holds_expire: int | None = None  # epoch seconds: not to be used from then on

    def json(self, now: datetime, *, online: bool) -> bytes:
        earliest, latest = start_bounds(
            now,
            online=online,
            lead_time=timedelta(seconds=self.lead_time),
            horizon=timedelta(seconds=self.horizon),
        )
        first = bisect_left(self.starts, earliest)
        stop = len(self.starts) if latest is None else bisect_right(self.starts, latest)
        if first >= stop:
            return _EMPTY
        return b'{"slots":[' + self.body[self.offsets[first] : self.offsets[stop] - 1] + b"]}"


_NOTHING = _Answer(array("q"), array("q", [0]), b"", 0, 0)


def available_slots_json(
    asked: object,
    read: Callable[[], Question],
    *,
    online: bool,
    now: datetime | None = None,
) -> bytes:
    """`free_slots` as the availability endpoint's JSON body, `{"slots": [{"start", "end",
    "practitioner", "location"}]}` with times in each location's zone, for the question
    sent as `asked` (e.g. the query string's parameters, sorted; its repr is the key): kept
    from an earlier answer to the same question while the diary has not changed since.

    `read` reads `asked` into a `Question`, looking up its records, and may refuse it by
    raising (nothing is kept then). It runs only when no answer is kept: for the same
    `asked` from the same kind of caller it can only read differently after a change to a
    service, a practitioner or a location, and each moves the versions in the key on.
    """
    now = now or timezone.now()
    if connection.in_atomic_block:
        answer = _answer(read(), online=online, now=now)
    else:
        answer = _kept_answer(asked, read, online=online, now=now)
    return answer.json(now, online=online)


def _kept_answer(
    asked: object, read: Callable[[], Question], *, online: bool, now: datetime
) -> _Answer:
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS)
        versions = cursor.fetchall()
    digest = blake2b(repr((asked, online, versions)).encode(), digest_size=16).hexdigest()
    key = f"{KEY_PREFIX}:{digest}"
    try:
        answer = cache.get(key)
    except RedisError as error:
        logger.warning("availability computed without the cache: %r", error)
        return _answer(read(), online=online, now=now)
    if answer is None or (
        answer.holds_expire is not None and now.timestamp() >= answer.holds_expire
    ):
        answer = _answer(read(), online=online, now=now)
        if len(answer.body) <= MAX_ENTRY_BYTES:
            try:
                cache.set(key, answer, ENTRY_SECONDS)
            except RedisError as error:
                logger.warning("availability not kept in the cache: %r", error)
    return answer


def _answer(question: Question, *, online: bool, now: datetime) -> _Answer:
    if not is_offered(question.service, online=online):
        return _NOTHING
    rules = BookingRules.current()
    found = free_starts(
        question.service,
        question.start_date,
        question.end_date,
        question.practitioner,
        question.location,
        grid_minutes=rules.slot_grid_minutes,
        now=now,
        over_offers=not online,
    )
    fragments = []
    for start, practitioner, location in found.starts:
        zone = found.zones[location]
        began = datetime.fromtimestamp(start, zone).isoformat()
        ended = datetime.fromtimestamp(start + found.duration, zone).isoformat()
        fragments.append(
            f'{{"start":"{began}","end":"{ended}","practitioner":{practitioner},"location":{location}}}'
        )
    offsets = array("q", [0])
    for fragment in fragments:  # ASCII: as many bytes as characters
        offsets.append(offsets[-1] + len(fragment) + 1)
    return _Answer(
        starts=array("q", [start for start, _, _ in found.starts]),
        offsets=offsets,
        body=",".join(fragments).encode(),
        lead_time=int(rules.online_lead_time.total_seconds()),
        horizon=int(rules.online_horizon.total_seconds()),
        holds_expire=found.holds_expire,
    )
