"""What the availability cache's tests compare with: `free_slots`, uncached, rendered as the
availability endpoint rendered it before the cache (DRF's JSON renderer over plain dicts,
times in each slot's location zone)."""

from datetime import date, datetime

from rest_framework.renderers import JSONRenderer

from appointments.availability import free_slots
from practice.models import Location, Service


def uncached_body(
    service: Service,
    start_date: date,
    end_date: date,
    *,
    online: bool,
    now: datetime,
    practitioner: int | None = None,
    location: int | None = None,
) -> bytes:
    slots = free_slots(
        service,
        start_date,
        end_date,
        practitioner=practitioner,
        location=location,
        online=online,
        now=now,
    )
    zones = {location.pk: location.zone for location in Location.objects.all()}
    return JSONRenderer().render(
        {
            "slots": [
                {
                    "start": slot.start.astimezone(zones[slot.location_id]).isoformat(),
                    "end": slot.end.astimezone(zones[slot.location_id]).isoformat(),
                    "practitioner": slot.practitioner_id,
                    "location": slot.location_id,
                }
                for slot in slots
            ]
        }
    )
