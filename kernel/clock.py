"""The moment a service acts at.

A service that decides or stamps anything by the time takes `now` (None: the clock's
time, read once), so that one moment runs through the whole change: the rule it checks,
the times it records and the row's own created/updated stamps. A caller may give another
moment: the demo clinic writes six months of history through the services this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import models


def save_at(
    instance: models.Model, now: datetime, *, update_fields: Sequence[str] | None = None
) -> None:
    """Save `instance` with its automatic stamps at `now`: every `auto_now` field, and the
    `auto_now_add` ones when the row is new.

    Django overwrites those fields with the clock's time on every ordinary save, whatever
    the instance holds, so the stamps are set here and the row is saved raw: the save that
    loading a fixture uses, which writes the instance's values as they are. A raw save
    also skips the parents of multi-table inheritance, which no model of the clinic has.
    Fields left out of `update_fields` keep their stored value, as in `Model.save`.
    """
    adding = instance._state.adding
    for field in instance._meta.concrete_fields:
        if getattr(field, "auto_now", False) or (adding and getattr(field, "auto_now_add", False)):
            setattr(instance, field.attname, now)
    instance.save_base(raw=True, update_fields=update_fields)
