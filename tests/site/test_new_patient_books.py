"""A new patient books an initial assessment from scratch on the booking site.

Land on the site, say it is a first visit (the site offers the assessment only), see the
free times, pick one (held), register, confirm the email address from the link in the
email (in a second tab, as a person would), answer the intake with a red flag (the urgent
advice the API words is shown at once), confirm, download the .ics. Everything by keyboard.

Measured on the way, and printed and written to site.json (see conftest.py): the bytes of
HTML, CSS and script the site transferred, the number of API requests the page made, and
the seconds from landing to the confirmation.
"""

import json
import os
import re
import time
from pathlib import Path

import pytest
from django.core import mail
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from patients.models import Patient
from tests.site.pages import Site

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and memorable phrase"
LINK = re.compile(r"/#/(verify-email|reset-password)\?token=([^\s\"'<>]+)")

# Every resource the page loaded: the site's own files (and the document itself) by the
# bytes they took on the wire, the API's by count. Cross-origin sizes are hidden from the
# page without Timing-Allow-Origin, and the API's answers are not page weight anyway.
RESOURCES = """
const entries = [
  ...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource"),
];
return entries.map((e) => ({name: e.name, bytes: e.transferSize || e.encodedBodySize}));
"""


def emailed_link(kind: str) -> str:
    for message in reversed(mail.outbox):
        for found in LINK.finditer(message.body):
            if found.group(1) == kind:
                return f"#/{kind}?token={found.group(2)}"
    raise AssertionError(f"no {kind} link in {len(mail.outbox)} email(s)")


def results_file(artifacts_dir: Path) -> Path:
    return Path(os.environ.get("CLINIC_SITE_RESULTS") or artifacts_dir / "site.json")


def pick_an_assessment_time(page: Site, assessment, other_service, shot: str) -> str:
    """A first visit: the site offers the assessment, and only it; its first free time,
    held."""
    page.tick("No, this is my first visit")
    service = page.field(f"{assessment.name} · 60 min · ${assessment.price}")
    assert service.is_selected()
    assert other_service.name not in page.find("form.choose").text
    page.text_appears("New patients start with an initial assessment")
    assert page.field("Anyone available").is_selected()
    page.press("See free times")
    first = page.find(".slots button")
    chosen = first.text.split()[0]
    page.screenshot(page.artifacts / f"{shot}-1-times.png")
    first.send_keys(Keys.ENTER)
    page.heading("Your appointment")
    page.text_appears("Sign in or register to confirm")
    return chosen


def register(page: Site, email: str, shot: str) -> None:
    form = page.find("form.register")
    page.type("First name", "Noa", form)
    page.type("Last name", "Newcombe", form)
    page.field("Date of birth", form).send_keys("02031990")  # typed as the date control takes it
    page.type("Email", email, form)
    page.type("Mobile number", "0412 345 678", form)
    page.type("Password", PASSWORD, form)
    page.tick("Send me confirmations and reminders by email", form)
    page.screenshot(page.artifacts / f"{shot}-2-register.png")
    page.press("Register", form)


def verify_in_another_tab(page: Site) -> None:
    """The link in the email, followed in a second tab as from a mail program."""
    browser = page.driver
    booking_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    page.open(emailed_link("verify-email"))
    page.heading("Email address confirmed")
    browser.close()
    browser.switch_to.window(booking_tab)


def test_a_new_patient_books_an_assessment_from_scratch(
    browser,
    site,
    live_server,
    artifacts_dir,
    location,
    treatment_rooms,
    assessment,
    myotherapist,
    myotherapy,
):
    page = Site(browser, site, artifacts_dir)
    downloads = artifacts_dir / "downloads"
    downloads.mkdir(exist_ok=True)
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    (downloads / "appointment.ics").unlink(missing_ok=True)

    browser.set_window_size(390, 844)  # a phone: the site is built for one first
    landed = time.monotonic()
    page.open()
    page.heading("Book an appointment")

    chosen = pick_an_assessment_time(page, assessment, myotherapy, "new-patient")

    register(page, "noa@example.com", "new-patient")
    page.text_appears("Before your first visit")

    verify_in_another_tab(page)

    # The intake, with a red flag that calls for urgent care.
    form = page.find("form.intake")
    page.type("What brings you to the clinic?", "Pain down my left leg since a fall", form)
    page.tick("Left leg", form)
    page.tick("Pins and needles", form)
    page.type("Pain today, from 0 (none) to 10 (worst imaginable)", "6", form)
    page.tick("Under 6 weeks", form)
    page.tick("Mostly sitting", form)
    page.tick("Numbness around the buttocks or groin (saddle area)", form)
    page.press("Save my answers", form)
    advice = page.visible(".urgent[role=alert]")
    patient = Patient.objects.get(email="noa@example.com")
    intake = patient.intakes.get()
    assert "saddle_numbness" in intake.red_flags
    assert advice.text, "the urgent advice is not shown"
    assert browser.switch_to.active_element == advice
    page.screenshot(artifacts_dir / "new-patient-3-urgent-advice.png")
    page.press("I understand, continue")

    page.find("form.confirm")
    page.press("Confirm booking")
    page.heading("You're booked")
    booked_after = time.monotonic() - landed
    page.screenshot(artifacts_dir / "new-patient-4-booked.png")

    appointment = patient.appointments.get()
    assert appointment.service == assessment
    assert appointment.status == "booked"
    assert appointment.start.astimezone(location.zone).strftime("%H:%M") == chosen
    page.text_appears(appointment.start.astimezone(location.zone).strftime("%H:%M"))

    resources = browser.execute_script(RESOURCES)
    page.press("Add to my calendar (.ics)")
    ics = downloads / "appointment.ics"
    page.wait().until(lambda d: ics.exists() and ics.stat().st_size, "no .ics was downloaded")
    assert "BEGIN:VCALENDAR" in ics.read_text()

    own = [r for r in resources if r["name"].startswith(site)]
    api_calls = [r for r in resources if r["name"].startswith(f"{live_server.url}/api/")]
    script_bytes = sum(
        path.stat().st_size for path in (Path(__file__).parents[2] / "site").rglob("*.js")
    )
    figures = {
        "page_weight_bytes": sum(r["bytes"] for r in own),
        "page_files": len(own),
        "script_bytes_on_disk": script_bytes,
        "api_requests": len(api_calls),
        "api_requests_by_path": sorted(r["name"].removeprefix(live_server.url) for r in api_calls),
        "seconds_landing_to_booked": round(booked_after, 2),
    }
    results = results_file(artifacts_dir)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(figures, indent=2) + "\n")
    print("\nbooking site, new patient:", json.dumps(figures, indent=2))
    assert script_bytes < 100_000


def test_an_unverified_patient_is_asked_to_confirm_their_address_before_booking(
    browser, site, artifacts_dir, location, treatment_rooms, assessment, myotherapist, myotherapy
):
    page = Site(browser, site, artifacts_dir)
    page.open()
    page.heading("Book an appointment")
    pick_an_assessment_time(page, assessment, myotherapy, "unverified")

    # The API's refusal, field by field, next to the fields (and focus on the first).
    form = page.find("form.register")
    page.press("Register", form)
    first_name = page.field("First name", form)
    page.wait().until(lambda d: first_name.get_attribute("aria-invalid") == "true")
    error = browser.find_element(By.ID, f"{first_name.get_attribute('id')}-error")
    assert error.text and error.is_displayed()
    assert page.field("Email", form).get_attribute("aria-invalid") == "true"
    assert browser.switch_to.active_element == first_name
    page.screenshot(artifacts_dir / "unverified-0-field-errors.png")

    register(page, "nell@example.com", "unverified")
    form = page.find("form.intake")
    page.type("What brings you to the clinic?", "Low back pain", form)
    page.type("Pain today, from 0 (none) to 10 (worst imaginable)", "3", form)
    page.tick("Over 12 weeks", form)
    page.tick("A seasoned runner", form)
    page.press("Save my answers", form)

    page.press("Confirm booking")
    page.text_appears("Please confirm your email address first", ".notice")
    page.screenshot(artifacts_dir / "unverified-3-asked.png")
    assert not Patient.objects.get(email="nell@example.com").appointments.exists()

    verify_in_another_tab(page)
    page.press("Confirm booking")
    page.heading("You're booked")
    assert Patient.objects.get(email="nell@example.com").appointments.count() == 1
