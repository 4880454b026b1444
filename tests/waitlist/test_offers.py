"""Freed time offered to the waitlist: noted with the change, matched, held, offered once,
accepted (once), declined or expired (the next candidate), withdrawn by reception."""

from datetime import time, timedelta

import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.db import transaction

from appointments.models import SlotHold, Source, Status
from appointments.services import (
    book_appointment,
    change_working_time,
    reschedule_appointment,
)
from clinic.celery import app
from kernel.errors import DomainError
from notifications.callbacks import take_reply
from notifications.models import Delivery, MessagingSettings, Notification, ReplyAction
from notifications.providers import IncomingSms
from notifications.services import claim_due, deliver
from practice.models import Leave
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import NOW, TODAY, at
from waitlist import offers
from waitlist.models import EndReason, FreedTime, OfferPolicy, OfferStatus, WaitlistOffer
from waitlist.offers import (
    accept_offer,
    awake_deadline,
    decline_offer,
    offer_by_hand,
    process_freed_time,
    sweep_offers,
    withdraw_offers,
)
from waitlist.tasks import offer_freed_time

from .offer_helpers import (
    FREED_AT,
    TOMORROW,
    book_then_cancel,
    link,
    offer_messages,
    wait_for,
    waiting_patient,
)


@pytest.fixture
def scene(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """Two assessed patients waiting for myotherapy, Bea since before Cas."""

    def patient(name, **consents):
        return waiting_patient(
            name,
            location=location,
            room=treatment_rooms[1],
            practitioner=myotherapist,
            assessment=assessment,
            **consents,
        )

    bea, cas, dee = patient("Bea"), patient("Cas"), patient("Dee")
    return {
        "bea": bea,
        "cas": cas,
        "dee": dee,  # the one who books and cancels
        "patient": patient,
        "bea_entry": wait_for(bea, myotherapy, reception),
        "cas_entry": wait_for(cas, myotherapy, reception),
    }


def freed(scene, myotherapy, myotherapist, start=FREED_AT):
    return book_then_cancel(scene["dee"], myotherapy, myotherapist, start=start)


def live_offers():
    return WaitlistOffer.objects.filter(status=OfferStatus.OFFERED)


# --- freed time is noted with the change ------------------------------------------------


def test_a_cancellation_notes_the_time_it_frees_in_its_own_transaction(
    scene, myotherapy, myotherapist
):
    cancelled = freed(scene, myotherapy, myotherapist)

    (row,) = FreedTime.objects.all()
    assert (row.practitioner_id, row.location_id) == (myotherapist.pk, cancelled.location_id)
    assert (row.start, row.end) == (cancelled.start, cancelled.blocked_until)
    assert row.processed_at is None


def test_a_change_that_rolls_back_notes_nothing(scene, myotherapy, myotherapist):
    with pytest.raises(RuntimeError), transaction.atomic():
        freed(scene, myotherapy, myotherapist)
        raise RuntimeError("the request failed after the cancellation")

    assert not FreedTime.objects.exists()


def test_a_move_notes_the_time_it_left(scene, myotherapy, myotherapist):
    booked = book_appointment(
        patient=scene["dee"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )
    reschedule_appointment(appointment=booked, start=at(TOMORROW, 14))

    (row,) = FreedTime.objects.all()
    assert row.start == FREED_AT


def test_working_time_changed_notes_the_weeks_ahead(scene, myotherapist):
    leave = Leave.objects.create(
        practitioner=myotherapist, start=at(TOMORROW, 9), end=at(TOMORROW, 17)
    )
    change_working_time(
        practitioner_ids=[myotherapist.pk], change=leave.delete, decision=None, by=None
    )

    (row,) = FreedTime.objects.all()
    assert row.practitioner_id == myotherapist.pk and row.location_id is None
    assert row.start == NOW


# --- matching and offering --------------------------------------------------------------


def test_the_freed_time_is_held_and_offered_to_the_longest_waiting(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist)

    assert process_freed_time() == 1

    (offer,) = live_offers()
    assert offer.entry == scene["bea_entry"]
    assert offer.start == FREED_AT and offer.practitioner == myotherapist
    hold = SlotHold.objects.get(pk=offer.hold_id)
    assert hold.patient is None and hold.expires_at == offer.expires_at
    # Tomorrow is "soon": two awake hours.
    assert offer.expires_at == NOW + timedelta(hours=2)
    (message,) = offer_messages(offer)
    assert message.status == Delivery.PENDING and message.due_at <= NOW
    assert message.details["offer_url"].endswith(link(offer).split("/offers/")[1].rstrip("/"))
    assert FreedTime.objects.get().processed_at == NOW


def test_urgent_entries_come_first(scene, myotherapy, myotherapist, reception):
    from waitlist.services import change_entry

    change_entry(entry=scene["cas_entry"], changes={"urgent": True}, by=reception)
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert live_offers().get().entry == scene["cas_entry"]


def test_never_an_offer_to_a_patient_with_an_appointment_at_that_time(
    scene, myotherapy, myotherapist, second_myotherapist
):
    book_appointment(
        patient=scene["bea"],
        service=myotherapy,
        practitioner=second_myotherapist,
        start=FREED_AT + timedelta(minutes=15),
    )
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert live_offers().get().entry == scene["cas_entry"]


def test_no_offer_to_a_patient_without_a_consented_channel(scene, myotherapy, myotherapist):
    scene["bea"].consent_email = False
    scene["bea"].save()
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert live_offers().get().entry == scene["cas_entry"]


def test_the_wish_is_respected_weekdays_and_window_of_the_day(
    scene, myotherapy, myotherapist, reception
):
    from waitlist.services import change_entry

    # Bea only on Wednesdays, Cas only afternoons: nobody takes Tuesday 10:00.
    change_entry(entry=scene["bea_entry"], changes={"weekdays": [2]}, by=reception)
    change_entry(entry=scene["cas_entry"], changes={"earliest_time": time(13)}, by=reception)
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert not live_offers().exists()
    assert not SlotHold.objects.exists()


def test_a_new_patient_is_not_offered_a_treatment(scene, myotherapy, myotherapist, reception):
    from tests.factories import PatientFactory

    newcomer = PatientFactory(consent_email=True)  # never assessed
    wait_for(newcomer, myotherapy, reception, urgent=True)
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert live_offers().get().entry.patient != newcomer


def test_sooner_than_only_offers_times_earlier_than_the_booking(
    scene, myotherapy, myotherapist, reception
):
    later = book_appointment(
        patient=scene["bea"],
        service=myotherapy,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=5), 10),
    )
    from waitlist.services import change_entry

    change_entry(entry=scene["bea_entry"], changes={"sooner_than": later}, by=reception)
    scene["cas_entry"].ended_at = NOW
    scene["cas_entry"].end_reason = EndReason.LEFT
    scene["cas_entry"].save()
    # A time after the booking is not sooner.
    freed(scene, myotherapy, myotherapist, start=at(TODAY + timedelta(days=6), 10))
    process_freed_time()
    assert not live_offers().exists()

    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    moved = accept_offer(offer=offer)

    assert moved.pk == later.pk and moved.start == FREED_AT
    assert moved.status == Status.BOOKED


def test_the_policy_can_turn_offers_off_for_a_service(scene, myotherapy, myotherapist):
    OfferPolicy.objects.create(service=myotherapy, enabled=False)
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    assert not live_offers().exists()
    assert FreedTime.objects.get().processed_at is not None


def test_offers_at_once_share_one_hold(scene, myotherapy, myotherapist):
    OfferPolicy.objects.create(service=None, offers_at_once=2)
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    offered = list(live_offers())
    assert {o.entry_id for o in offered} == {scene["bea_entry"].pk, scene["cas_entry"].pk}
    assert len({o.hold_id for o in offered}) == 1


# --- quiet hours ------------------------------------------------------------------------


def test_nothing_is_offered_in_quiet_hours_and_the_row_waits(scene, myotherapy, myotherapist):
    settings_row = MessagingSettings.current()
    settings_row.quiet_hours_start, settings_row.quiet_hours_end = time(20), time(9)
    settings_row.save()
    freed(scene, myotherapy, myotherapist)

    assert process_freed_time() == 0
    assert not live_offers().exists()
    assert FreedTime.objects.get().processed_at is None

    assert process_freed_time(now=NOW + timedelta(hours=1)) == 1
    assert live_offers().get().sent_at == NOW + timedelta(hours=1)


def test_the_expiry_clock_pauses_overnight():
    rules = MessagingSettings(quiet_hours_start=time(20), quiet_hours_end=time(8))
    evening = at(TODAY, 19, 50)

    assert awake_deadline(evening, 15, evening.tzinfo, rules) == at(TOMORROW, 8, 5)
    assert awake_deadline(at(TODAY, 10), 15, evening.tzinfo, rules) == at(TODAY, 10, 15)
    # 12 awake hours from 14:00: 6 today, 6 tomorrow from 08:00.
    assert awake_deadline(at(TODAY, 14), 720, evening.tzinfo, rules) == at(TOMORROW, 14)


def test_an_offer_never_outlasts_the_time_it_offers(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist, start=at(TODAY, 9, 15))
    process_freed_time()

    offer = live_offers().get()
    assert offer.expires_at == NOW + timedelta(minutes=15)  # today: 15 awake minutes
    assert offer.expires_at <= offer.start


# --- accepting, declining, expiring -----------------------------------------------------


def test_accepting_by_the_link_books_the_time_and_ends_the_entry(
    scene, myotherapy, myotherapist, anonymous
):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    shown = anonymous.get(link(offer))
    assert shown.status_code == 200, shown.json()
    assert shown.json()["service"] == myotherapy.name
    assert shown.json()["practitioner"] == "Mia Myo"

    response = anonymous.post(link(offer, "accept"))

    assert response.status_code == 200, response.json()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED and offer.hold_id is None
    booked = offer.appointment
    assert (booked.patient, booked.start, booked.source) == (
        scene["bea"],
        FREED_AT,
        Source.WAITLIST,
    )
    scene["bea_entry"].refresh_from_db()
    assert scene["bea_entry"].end_reason == EndReason.BOOKED
    assert not SlotHold.objects.exists()


def test_the_same_link_twice_is_a_polite_409(scene, myotherapy, myotherapist, anonymous):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()
    anonymous.post(link(offer, "accept"))

    again = anonymous.post(link(offer, "accept"))

    assert again.status_code == 409
    assert again.json()["code"] == "offer_used"


def test_a_forged_link_is_404(anonymous, db):
    assert anonymous.get("/api/v1/waitlist/offers/abc:def:ghi/").status_code == 404
    assert anonymous.post("/api/v1/waitlist/offers/nothing/accept/").status_code == 404


def test_declining_offers_the_time_to_the_next_candidate(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    first = live_offers().get()

    decline_offer(offer=first)

    first.refresh_from_db()
    assert first.status == OfferStatus.DECLINED
    second = live_offers().get()
    assert second.entry == scene["cas_entry"]
    assert second.hold_id == first.hold_id
    scene["bea_entry"].refresh_from_db()
    assert scene["bea_entry"].ended_at is None  # stays on the list
    assert offer_messages(second).count() == 1


def test_the_sweep_expires_offers_and_passes_the_time_on(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    first = live_offers().get()
    later = first.expires_at + timedelta(seconds=1)

    with pytest.raises(DomainError) as refused:
        accept_offer(offer=first, now=later)
    assert refused.value.code == "offer_expired"

    assert sweep_offers(now=later) == 1

    first.refresh_from_db()
    assert first.status == OfferStatus.EXPIRED
    second = live_offers().get()
    assert second.entry == scene["cas_entry"] and second.sent_at == later
    assert SlotHold.objects.get(pk=second.hold_id).expires_at == second.expires_at


def test_when_nobody_is_left_the_hold_is_released(scene, myotherapy, myotherapist):
    scene["cas_entry"].ended_at, scene["cas_entry"].end_reason = NOW, EndReason.LEFT
    scene["cas_entry"].save()
    freed(scene, myotherapy, myotherapist)
    process_freed_time()

    decline_offer(offer=live_offers().get())

    assert not SlotHold.objects.exists()
    # The time is noted free again, for a later round.
    assert FreedTime.objects.filter(processed_at__isnull=True).count() == 1


def test_an_ended_offers_pending_message_is_withdrawn(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    first = live_offers().get()

    decline_offer(offer=first)

    assert offer_messages(first).get().status == Delivery.WITHDRAWN


# --- reception --------------------------------------------------------------------------


def test_reception_releasing_the_time_withdraws_the_offer(
    scene, myotherapy, myotherapist, anonymous
):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    withdraw_offers(WaitlistOffer.objects.filter(pk=offer.pk), release=True)
    book_appointment(
        patient=scene["dee"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    answer = anonymous.post(link(offer, "accept"))
    assert answer.status_code == 409 and answer.json()["code"] == "offer_taken"


def test_a_hold_released_elsewhere_withdraws_the_offer(scene, myotherapy, myotherapist, anonymous):
    from appointments.services import release_hold

    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    release_hold(hold_id=offer.hold_id)
    booked = book_appointment(
        patient=scene["dee"], service=myotherapy, practitioner=myotherapist, start=FREED_AT
    )

    # The link says so at once; beat's sweep marks the offer withdrawn.
    assert anonymous.get(link(offer)).json()["status"] == "withdrawn"
    answer = anonymous.post(link(offer, "accept"))
    assert answer.status_code == 409 and answer.json()["code"] == "offer_taken"
    assert sweep_offers() == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert booked.start == FREED_AT


def test_reception_offers_a_time_by_hand(scene, myotherapy, myotherapist, reception):
    start = at(TOMORROW, 14)

    offer = offer_by_hand(
        entry=scene["cas_entry"], practitioner=myotherapist, start=start, by=reception
    )

    assert offer.offered_by == reception and offer.start == start
    assert SlotHold.objects.filter(pk=offer.hold_id).exists()
    assert offer_messages(offer).count() == 1


def test_an_offer_by_hand_that_does_not_fit_names_why(scene, myotherapy, myotherapist, reception):
    with pytest.raises(DomainError) as refused:
        offer_by_hand(
            entry=scene["cas_entry"],
            practitioner=myotherapist,
            start=at(TOMORROW, 20),
            by=reception,
        )
    assert refused.value.code == "invalid" and "start" in refused.value.fields


# --- SMS answers ------------------------------------------------------------------------


def test_yes_by_sms_takes_the_offer(scene, myotherapy, myotherapist):
    bea = scene["bea"]
    bea.consent_sms, bea.mobile = True, "+61400000001"
    bea.save()
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()
    Notification.objects.filter(reason_key=f"waitlist_offer:{offer.pk}:sms").update(
        status=Delivery.SENT, sent_at=NOW, recipient="+61400000001"
    )

    reply, new = take_reply(IncomingSms(provider_id="SM1", sender="+61400000001", body="Yes"))

    assert new and reply.action == ReplyAction.OFFER_TAKEN
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert "Booked" in reply.answer


def test_no_by_sms_declines_the_offer(scene, myotherapy, myotherapist):
    bea = scene["bea"]
    bea.consent_sms, bea.mobile = True, "+61400000001"
    bea.save()
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()
    Notification.objects.filter(reason_key=f"waitlist_offer:{offer.pk}:sms").update(
        status=Delivery.SENT, sent_at=NOW, recipient="+61400000001"
    )

    reply, _ = take_reply(IncomingSms(provider_id="SM2", sender="+61400000001", body="no"))

    assert reply.action == ReplyAction.OFFER_DECLINED
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert live_offers().get().entry == scene["cas_entry"]


# --- a worker killed midway, and running twice -------------------------------------------


def test_a_worker_killed_mid_offer_leaves_no_hold_and_sends_nothing_twice(
    scene, myotherapy, myotherapist, monkeypatch
):
    freed(scene, myotherapy, myotherapist)
    real_offer = offers._offer

    def dies_after_the_hold(*args, **kwargs):
        assert SlotHold.objects.exists()  # the hold was made, in the transaction
        raise SystemExit("worker killed")

    monkeypatch.setattr(offers, "_offer", dies_after_the_hold)
    with pytest.raises(SystemExit):
        process_freed_time()

    assert not SlotHold.objects.exists()
    assert not WaitlistOffer.objects.exists()
    assert FreedTime.objects.get().processed_at is None

    monkeypatch.setattr(offers, "_offer", real_offer)
    assert process_freed_time() == 1
    assert process_freed_time() == 0  # run again: nothing more

    (offer,) = WaitlistOffer.objects.all()
    assert offer_messages(offer).count() == 1
    assert SlotHold.objects.count() == 1


def test_the_task_is_safe_to_run_twice(scene, myotherapy, myotherapist):
    freed(scene, myotherapy, myotherapist)

    assert offer_freed_time() == {"ended": 0, "processed": 1}
    assert offer_freed_time() == {"ended": 0, "processed": 0}
    assert WaitlistOffer.objects.count() == 1


def test_a_committed_cancellation_runs_the_task_through_its_signature(
    scene, myotherapy, myotherapist, django_capture_on_commit_callbacks, recwarn
):
    """Enqueued as the registered task, not `send_task` by name: with eager tasks (the
    booking site's tests) it runs at once, and Celery has nothing to warn about."""
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            freed(scene, myotherapy, myotherapist)
    finally:
        app.conf.task_always_eager = False

    assert live_offers().get().entry == scene["bea_entry"]
    assert not [w for w in recwarn if issubclass(w.category, AlwaysEagerIgnored)]


def test_the_link_opens_the_booking_sites_offer_page(scene, myotherapy, myotherapist, settings):
    """By default (no WAITLIST_OFFER_URL in the environment) the message links to the
    site's `#/offer/{token}` page, which reads the offer by that token."""
    from clinic.settings import base

    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    site_page = base.SITE_URL.rstrip("/") + "/#/offer/"
    assert site_page + "{token}" == base.WAITLIST_OFFER_URL
    settings.WAITLIST_OFFER_URL = base.WAITLIST_OFFER_URL
    token = offers.offer_details(offer)["offer_url"].removeprefix(site_page)
    assert link(offer) == f"/api/v1/waitlist/offers/{token}/"


def test_beat_runs_the_offers_every_minute():
    schedule = app.conf.beat_schedule["offer-freed-time"]
    assert schedule["task"] == "waitlist.tasks.offer_freed_time"
    assert schedule["schedule"] == 60.0


# --- end to end ---------------------------------------------------------------------------


def test_a_cancellation_becomes_an_offer_in_the_outbox_then_a_booking(
    scene, myotherapy, myotherapist, anonymous
):
    from notifications.models import MessageTemplate, OutboxMessage

    assert MessageTemplate.objects.filter(kind="waitlist_offer").count() == 2
    freed(scene, myotherapy, myotherapist)

    a_minute_later = NOW + timedelta(minutes=1)
    offer_freed_time()  # what beat (or the on-commit enqueue) runs
    for pk in claim_due(now=a_minute_later):
        deliver(pk, now=a_minute_later)

    offer = live_offers().get()
    sent = OutboxMessage.objects.get(notification__reason_key__startswith="waitlist_offer:")
    assert sent.recipient == scene["bea"].email
    assert "Tuesday 23 March at 10:00" in sent.body
    token = link(offer).split("/offers/")[1].rstrip("/")
    assert token in sent.body

    assert anonymous.post(link(offer, "accept")).status_code == 200
    assert scene["bea"].appointments.get(start=FREED_AT).status == Status.BOOKED


def test_staff_see_nothing_new_by_the_link(scene, myotherapy, myotherapist, reception):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    shown = client_for(reception).get(link(offer)).json()

    assert "patient" not in shown


def test_a_body_sent_with_the_link_changes_nothing(
    scene, myotherapy, myotherapist, second_myotherapist, anonymous
):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    response = anonymous.post(
        link(offer, "accept"),
        {
            "patient": scene["cas"].pk,
            "start": "2027-03-30T09:00:00+11:00",
            "practitioner": second_myotherapist.pk,
            "status": "declined",
        },
    )

    assert response.status_code == 200
    booked = WaitlistOffer.objects.get(pk=offer.pk).appointment
    assert (booked.patient, booked.start, booked.practitioner) == (
        scene["bea"],
        FREED_AT,
        myotherapist,
    )


def test_declining_by_the_link_ignores_a_body(scene, myotherapy, myotherapist, anonymous):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()

    response = anonymous.post(link(offer, "decline"), {"status": "accepted", "entry": 1})

    assert response.status_code == 200 and response.json()["status"] == "declined"


def test_an_expired_link_says_so(scene, myotherapy, myotherapist, anonymous, frozen_now):
    freed(scene, myotherapy, myotherapist)
    process_freed_time()
    offer = live_offers().get()
    frozen_now.move_to(offer.expires_at + timedelta(seconds=1))

    shown = anonymous.get(link(offer))
    taken = anonymous.post(link(offer, "accept"))

    assert shown.json()["status"] == "expired"
    assert taken.status_code == 409 and taken.json()["code"] == "offer_expired"
    scene["bea_entry"].refresh_from_db()
    assert scene["bea_entry"].ended_at is None


def test_added_hours_are_offered_to_every_waiting_patient_once(
    scene, myotherapy, myotherapist, reception
):
    leave = Leave.objects.create(
        practitioner=myotherapist, start=at(TOMORROW, 9), end=at(TOMORROW, 17)
    )
    change_working_time(
        practitioner_ids=[myotherapist.pk], change=leave.delete, decision=None, by=None
    )

    process_freed_time()

    offered = list(live_offers().order_by("start"))
    assert [o.entry for o in offered] == [scene["bea_entry"], scene["cas_entry"]]
    assert offered[0].start < offered[1].start
