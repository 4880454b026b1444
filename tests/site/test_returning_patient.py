"""A returning patient signs in, says they will come, moves a booking to another free time
(which asks for their word again), then cancels it.

The cancellation panel says the rule in words (how many hours before, and to call the
clinic's number closer to the time) before the patient confirms.
"""

from datetime import datetime, time, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.fixtures.clinic import MELBOURNE, assess
from tests.site.pages import Site

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"  # the factory's


@pytest.fixture
def returning(location, treatment_rooms, myotherapist, assessment, myotherapy):
    """A patient assessed last month, with a myotherapy session three days from now."""
    location.phone = "03 9000 1234"
    location.save()
    patient = PatientFactory(
        first_name="Rae", last_name="Turner", user=UserFactory(email="rae@example.com")
    )
    assess(patient, location, treatment_rooms[0], myotherapist, assessment)
    day = datetime.now(MELBOURNE).date() + timedelta(days=3)
    start = datetime.combine(day, time(10), tzinfo=MELBOURNE)
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


def test_a_returning_patient_reschedules_and_cancels(browser, site, artifacts_dir, returning):
    _, booking = returning
    page = Site(browser, site, artifacts_dir)

    page.open("#/bookings")
    page.heading("Please sign in")
    form = page.find("form.sign-in")
    page.type("Email", "rae@example.com", form)
    page.type("Password", PASSWORD, form)
    page.press("Sign in", form)

    page.heading("My bookings")
    row = page.find(f'[data-appointment="{booking.pk}"]')
    assert "Myotherapy 45" in row.text and "10:00" in row.text

    page.press("I will come", row)
    page.text_appears("we have noted that you will come", ".notice")
    row = page.find(f'[data-appointment="{booking.pk}"]')
    assert "You have confirmed you will come." in row.text
    assert not row.find_elements(By.XPATH, ".//button[normalize-space()='I will come']")
    booking.refresh_from_db()
    assert booking.confirmed_at is not None and booking.confirmed_via == "patient"

    # Move it to the practitioner's first free time on the fifth day shown: days ahead, so
    # that it can still be cancelled online afterwards.
    page.press("Move", row)
    page.find(".days button", row)
    row.find_elements(By.CSS_SELECTOR, ".days button")[4].send_keys(Keys.ENTER)
    first = page.find(".slots button", row)
    new_time = first.text.split()[0]
    page.screenshot(artifacts_dir / "returning-1-move.png")
    first.send_keys(Keys.ENTER)
    page.text_appears("Moved: Myotherapy 45 is now on", ".notice")
    booking.refresh_from_db()
    assert booking.status == Status.BOOKED
    assert booking.start.astimezone(MELBOURNE).strftime("%H:%M") == new_time
    assert booking.rescheduled_at is not None
    assert booking.confirmed_at is None  # they confirmed the old time
    row = page.find(f'[data-appointment="{booking.pk}"]')
    assert "You have confirmed" not in row.text

    # Cancel it, after reading the rule.
    row = page.find(f'[data-appointment="{booking.pk}"]')
    page.press("Cancel", row)
    panel = page.find(".panel", row)
    assert "until 24 hours before it starts" in panel.text
    assert "call us on" in panel.text
    page.screenshot(artifacts_dir / "returning-2-cancel.png")
    page.press("Cancel the appointment", panel)
    page.text_appears("Cancelled: Myotherapy 45", ".notice")
    page.text_appears("You have no upcoming appointments.")
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED


def test_a_patient_sets_reminders_per_channel_and_downloads_their_record(
    browser, site, artifacts_dir, returning
):
    patient, _ = returning
    page = Site(browser, site, artifacts_dir)
    downloads = artifacts_dir / "downloads"
    downloads.mkdir(exist_ok=True)
    for stale in ("my-record.pdf", "my-record.json"):
        (downloads / stale).unlink(missing_ok=True)
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    page.open("#/preferences")
    form = page.find("form.sign-in")
    page.type("Email", "rae@example.com", form)
    page.type("Password", PASSWORD, form)
    page.press("Sign in", form)

    page.heading("Reminders")
    page.tick("By SMS (+61412345678)")
    page.press("Save")
    page.text_appears("Saved.")
    patient.refresh_from_db()
    assert patient.consent_sms is True

    page.press("My record")
    page.heading("My record")
    page.press("Download as PDF (to read or print)")
    page.press("Download as JSON (for another clinic's software)")
    pdf, json_file = downloads / "my-record.pdf", downloads / "my-record.json"
    page.wait().until(lambda d: pdf.exists() and json_file.exists(), "the record was not saved")
    page.wait().until(lambda d: pdf.read_bytes().startswith(b"%PDF"), "not a PDF")
    assert "Turner" in json_file.read_text()
