"""A patient joins the waitlist from the booking page when no time shown suits, sees the
entry in words under My waitlist, changes what it waits for and leaves it; a refusal is
shown next to the field the API names, or in the patient's words by its code."""

from datetime import date, datetime, time, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.fixtures.clinic import MELBOURNE, assess
from tests.site.pages import Site
from waitlist.models import EndReason, WaitlistEntry
from waitlist.services import Wish, join_waitlist

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"  # the factory's

# The order the browser's date control takes a date's parts in, as its language writes it.
DATE_ORDER = """
return new Intl.DateTimeFormat(navigator.language)
  .formatToParts(new Date(2001, 10, 22))
  .filter((part) => part.type !== "literal")
  .map((part) => part.type);
"""


@pytest.fixture
def waiting(location, treatment_rooms, myotherapist, assessment, myotherapy):
    """Wyn, assessed last month, has myotherapy booked ten days from now."""
    patient = PatientFactory(
        first_name="Wyn", last_name="Waits", user=UserFactory(email="wyn@example.com")
    )
    assess(patient, location, treatment_rooms[0], myotherapist, assessment)
    start = datetime.combine(today() + timedelta(days=10), time(15), tzinfo=MELBOURNE)
    booking = AppointmentFactory(
        patient=patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=treatment_rooms[0],
        start=start,
        status=Status.BOOKED,
    )
    return patient, booking


def today() -> date:
    return datetime.now(MELBOURNE).date()


def sign_in(page: Site) -> None:
    page.heading("Please sign in")
    form = page.find("form.sign-in")
    page.type("Email", "wyn@example.com", form)
    page.type("Password", PASSWORD, form)
    page.press("Sign in", form)


def type_date(page: Site, label: str, day: date, within=None) -> None:
    """Type a date into a date control, part by part, as a keyboard user does."""
    box = page.field(label, within)
    parts = {"day": f"{day.day:02}", "month": f"{day.month:02}", "year": f"{day.year}"}
    box.send_keys("".join(parts[part] for part in page.driver.execute_script(DATE_ORDER)))
    assert box.get_attribute("value") == day.isoformat()


def test_no_time_suits_so_the_patient_joins_the_waitlist(
    browser, site, artifacts_dir, waiting, myotherapy
):
    patient, booking = waiting
    latest = today() + timedelta(days=21)
    page = Site(browser, site, artifacts_dir)

    page.open()
    page.heading("Book an appointment")
    page.tick("Yes, I have been before")
    page.tick(f"{myotherapy.name} · 45 min · ${myotherapy.price}")
    page.press("See free times")
    page.find(".slots button")
    page.text_appears("No time that suits you?")
    page.press("Join the waitlist")
    sign_in(page)

    page.heading("My waitlist")
    section = page.find('section[aria-labelledby="join-heading"]')
    assert "Join the waitlist for Myotherapy 45" in section.text
    assert not browser.find_elements(By.NAME, "urgent")  # the desk's, never the patient's
    page.tick("Monday", section)
    page.tick("Wednesday", section)
    type_date(page, "Latest date", latest, section)
    # The date is in the browser's language: the radio button is found by its booking.
    sooner = section.find_element(By.CSS_SELECTOR, f'[name="sooner_than"][value="{booking.pk}"]')
    label = section.find_element(By.CSS_SELECTOR, f'label[for="{sooner.get_attribute("id")}"]')
    assert label.text.startswith("Sooner than my booking on") and "15:00" in label.text
    sooner.send_keys(Keys.SPACE)
    page.screenshot(artifacts_dir / "waitlist-1-join.png")
    page.press("Join the waitlist", section)

    page.text_appears("You are on the waitlist for Myotherapy 45 until", ".notice")
    entry = WaitlistEntry.objects.get(patient=patient, service=myotherapy)
    assert (entry.weekdays, entry.latest_date, entry.sooner_than) == ([0, 2], latest, booking)
    assert entry.ended_at is None and not entry.urgent
    row = page.find(f'[data-entry="{entry.pk}"]')
    assert "Mondays or Wednesdays" in row.text
    assert "Sooner than" in row.text
    page.screenshot(artifacts_dir / "waitlist-2-joined.png")


def test_the_patient_changes_their_wishes_then_leaves(
    browser, site, artifacts_dir, waiting, myotherapy
):
    patient, _ = waiting
    entry = join_waitlist(
        patient=patient,
        service=myotherapy,
        by=patient.user,
        wish=Wish(latest_date=today() + timedelta(days=14), weekdays=[0]),
    )
    page = Site(browser, site, artifacts_dir)
    page.open("#/waitlist")
    sign_in(page)

    page.heading("My waitlist")
    row = page.find(f'[data-entry="{entry.pk}"]')
    assert "Myotherapy 45" in row.text and "Mondays" in row.text
    page.press("Change", row)
    panel = page.find(".panel", row)
    assert page.field("Monday", panel).is_selected()
    page.tick("Friday", panel)
    page.press("Save the changes", panel)

    page.text_appears("Changed: you wait for Myotherapy 45 until", ".notice")
    entry.refresh_from_db()
    assert entry.weekdays == [0, 4] and entry.ended_at is None
    row = page.find(f'[data-entry="{entry.pk}"]')
    assert "Mondays or Fridays" in row.text

    page.press("Leave", row)
    panel = page.find(".panel", row)
    page.press("Leave the waitlist", panel)
    page.text_appears("You have left the waitlist for Myotherapy 45.", ".notice")
    page.text_appears("You are not on the waitlist.")
    entry.refresh_from_db()
    assert entry.ended_at is not None and entry.end_reason == EndReason.LEFT


def test_a_refusal_is_shown_where_the_api_points(
    browser, site, artifacts_dir, waiting, location, myotherapy
):
    patient, _ = waiting
    page = Site(browser, site, artifacts_dir)
    page.open(f"#/waitlist?service={myotherapy.pk}&location={location.pk}")
    sign_in(page)
    page.heading("My waitlist")
    section = page.find('section[aria-labelledby="join-heading"]')

    # A latest date in the past: the API names latest_date, and its message is beside it.
    type_date(page, "Latest date", today() - timedelta(days=1), section)
    page.press("Join the waitlist", section)
    latest = page.field("Latest date", section)
    box = section.find_element(By.CSS_SELECTOR, '[data-field="latest_date"]')
    page.wait().until(lambda d: latest.get_attribute("aria-invalid") == "true")
    assert box.find_element(By.CSS_SELECTOR, ".field-error").text == "Must not be in the past."
    assert browser.switch_to.active_element == latest
    page.screenshot(artifacts_dir / "waitlist-3-refused.png")
    assert not WaitlistEntry.objects.exists()

    # Meanwhile reception puts them on it: a second entry is refused by its code.
    join_waitlist(
        patient=patient,
        service=myotherapy,
        by=None,
        wish=Wish(latest_date=today() + timedelta(days=30)),
    )
    type_date(page, "Latest date", today() + timedelta(days=7), section)
    page.press("Join the waitlist", section)
    page.text_appears("You are already on the waitlist for this service", ".form-error")
    assert latest.get_attribute("aria-invalid") is None
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1
