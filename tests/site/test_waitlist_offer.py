"""A patient on the waitlist follows the link in an offer's message: the page shows the
time held for them and takes it or passes on it, no sign-in needed; a time taken meanwhile
is explained by the refusal's code. Signed in, "My bookings" lists the offer with the same
two buttons."""

from datetime import datetime, time, timedelta

import pytest

from appointments.models import Source, Status
from appointments.services import book_appointment
from tests.factories import PatientFactory, UserFactory
from tests.fixtures.clinic import MELBOURNE, assess
from tests.site.pages import Site
from waitlist.models import OfferStatus
from waitlist.offers import offer_by_hand, offer_details
from waitlist.services import Wish, join_waitlist

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"  # the factory's


@pytest.fixture
def offered(location, treatment_rooms, myotherapist, assessment, myotherapy, reception):
    """Wes, assessed and waiting for myotherapy, is offered 14:00 three days from now."""
    patient = PatientFactory(
        first_name="Wes",
        last_name="Waiting",
        consent_email=True,
        user=UserFactory(email="wes@example.com"),
    )
    assess(patient, location, treatment_rooms[0], myotherapist, assessment)
    today = datetime.now(MELBOURNE).date()
    entry = join_waitlist(
        patient=patient,
        service=myotherapy,
        by=reception,
        wish=Wish(latest_date=today + timedelta(days=30)),
    )
    start = datetime.combine(today + timedelta(days=3), time(14), tzinfo=MELBOURNE)
    offer = offer_by_hand(entry=entry, practitioner=myotherapist, start=start, by=reception)
    return patient, offer


def open_the_link(page: Site, offer) -> None:
    """The link exactly as the message gives it."""
    url = offer_details(offer)["offer_url"]
    assert url.startswith(f"{page.origin}/#/offer/")
    page.driver.get(url)


def test_the_link_shows_the_offer_and_taking_it_books_it(browser, site, artifacts_dir, offered):
    patient, offer = offered
    page = Site(browser, site, artifacts_dir)

    open_the_link(page, offer)

    page.heading("A time has come free for you")
    summary = page.find("dl.summary")
    assert "Myotherapy 45" in summary.text and "Mia Myo" in summary.text
    assert "14:00" in summary.text and "Richmond" in summary.text
    page.screenshot(artifacts_dir / "offer-1-shown.png")
    page.press("Take it")

    page.heading("The time is yours")
    page.text_appears("Booked: Myotherapy 45")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    booked = offer.appointment
    assert (booked.patient, booked.start, booked.status, booked.source) == (
        patient,
        offer.start,
        Status.BOOKED,
        Source.WAITLIST,
    )
    # The same link again says the time is already theirs.
    open_the_link(page, offer)
    page.heading("You have already taken this time")


def test_a_time_taken_meanwhile_is_explained(
    browser, site, artifacts_dir, offered, assessment, myotherapist
):
    _, offer = offered
    other = PatientFactory(first_name="Ola")
    page = Site(browser, site, artifacts_dir)
    open_the_link(page, offer)
    page.heading("A time has come free for you")

    # Reception books a new patient's assessment at that time while the page is open: the
    # desk comes first.
    book_appointment(
        patient=other, service=assessment, practitioner=myotherapist, start=offer.start
    )
    page.press("Take it")

    page.heading("This time is no longer available")
    page.text_appears("You stay on the waitlist")
    page.screenshot(artifacts_dir / "offer-2-taken.png")
    assert not offer.entry.patient.appointments.filter(start=offer.start).exists()


def test_passing_keeps_the_patient_on_the_list(browser, site, artifacts_dir, offered):
    _, offer = offered
    page = Site(browser, site, artifacts_dir)
    open_the_link(page, offer)
    page.heading("A time has come free for you")

    page.press("Pass")

    page.heading("You passed on this time")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert offer.entry.ended_at is None


def test_a_mangled_link_says_so(browser, site, artifacts_dir, db):
    page = Site(browser, site, artifacts_dir)

    page.open("#/offer/not-a-token")

    page.heading("This link does not work")


def test_my_bookings_lists_the_offer_to_take(browser, site, artifacts_dir, offered):
    _, offer = offered
    page = Site(browser, site, artifacts_dir)
    page.open("#/bookings")
    page.heading("Please sign in")
    form = page.find("form.sign-in")
    page.type("Email", "wes@example.com", form)
    page.type("Password", PASSWORD, form)
    page.press("Sign in", form)

    page.heading("My bookings")
    page.text_appears("Times offered to you")
    item = page.find(f'[data-offer="{offer.public_id}"]')
    assert "Myotherapy 45" in item.text and "14:00" in item.text
    page.screenshot(artifacts_dir / "offer-3-my-bookings.png")
    page.press("Take it", item)

    page.text_appears("The time is yours. Booked: Myotherapy 45")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    page.find(f'[data-appointment="{offer.appointment_id}"]')
