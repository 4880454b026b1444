"""Reception's morning, in a real browser: log in, find the patient, open tomorrow's day
view, click a free slot, pick the patient in the booking form, book, see the booking.

Runs against the live server in real time (no frozen clock: the browser and the server must
agree on "now"), on tomorrow in Melbourne, through the staff pages, which ignore the online
lead time. Screenshots of the booking form and of the booked day go to test-artifacts/.
"""

from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from appointments.models import Appointment, Source, Status
from tests.e2e.pages import (
    MELBOURNE,
    PASSWORD,
    log_in,
    open_patient_select,
    pick_patient,
    visible,
    wait,
)

pytestmark = pytest.mark.django_db(transaction=True)

SLOT = time(10)


def test_reception_finds_patient_and_books_free_slot_from_day_view(
    live_server,
    browser,
    artifacts_dir,
    front_desk,
    zebedee,
    location,
    treatment_rooms,
    assessment,
    myotherapist,
):
    base = live_server.url
    day_view_png, booking_form_png = (
        artifacts_dir / "day-view.png",
        artifacts_dir / "booking-form.png",
    )
    for stale in (day_view_png, booking_form_png):
        stale.unlink(missing_ok=True)
    tomorrow = datetime.now(MELBOURNE).date() + timedelta(days=1)

    log_in(browser, base, front_desk.email, PASSWORD)

    # Find the patient.
    browser.get(f"{base}/admin/patients/patient/?q=Quillfeather")
    rows = wait(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#result_list tbody tr"),
        "no results in the patients changelist",
    )
    assert len(rows) == 1
    assert "Quillfeather" in rows[0].text and "Zebedee" in rows[0].text

    # Tomorrow's day view at the location, for an initial assessment.
    browser.get(
        f"{base}/admin/appointments/appointment/day/"
        f"?date={tomorrow:%Y-%m-%d}&location={location.pk}&service={assessment.pk}"
    )
    column = visible(browser, f'div.lane[data-practitioner="{myotherapist.pk}"]')
    assert "Mia Myo" in browser.find_element(By.ID, f"head-practitioner-{myotherapist.pk}").text
    browser.find_element(By.CSS_SELECTOR, "a.previous-day")
    browser.find_element(By.CSS_SELECTOR, "a.next-day")
    assert not column.find_elements(By.CSS_SELECTOR, "div.appointment")
    slots = [
        slot
        for slot in column.find_elements(By.CSS_SELECTOR, "a.free-slot")
        if slot.text.strip() == f"{SLOT:%H:%M}"
    ]
    assert slots, f"no free {SLOT:%H:%M} slot in the column: {column.text!r}"
    slots[0].click()

    # The booking form, pre-filled for that slot: pick the patient.
    wait(browser).until(ec.url_contains("/admin/appointments/appointment/book/"))
    checked = visible(browser, 'input[name="slot"]:checked')
    assert f"{SLOT:%H:%M}" in checked.find_element(By.XPATH, "./ancestor::label").text
    prefilled = {
        name: browser.find_element(By.ID, f"id_{name}").get_attribute("value")
        for name in ("service", "practitioner", "location", "date")
    }
    assert prefilled == {
        "service": str(assessment.pk),
        "practitioner": str(myotherapist.pk),
        "location": str(location.pk),
        "date": f"{tomorrow:%Y-%m-%d}",
    }
    open_patient_select(browser)
    pick_patient(browser, "Quillfe", "Zebedee Quillfeather", zebedee.pk)
    assert browser.save_screenshot(str(booking_form_png))

    # Book; back on the day view with the booking in the practitioner's column.
    browser.find_element(By.CSS_SELECTOR, 'button[name="book"], input[name="book"]').click()
    success = visible(browser, ".messagelist .success")
    landed = urlsplit(browser.current_url)
    assert landed.path == "/admin/appointments/appointment/day/", browser.current_url
    query = parse_qs(landed.query)
    assert query["date"] == [f"{tomorrow:%Y-%m-%d}"], browser.current_url
    assert query["location"] == [str(location.pk)], browser.current_url
    column = visible(browser, f'div.lane[data-practitioner="{myotherapist.pk}"]')
    appointment = Appointment.objects.get(patient=zebedee)
    card = column.find_element(
        By.CSS_SELECTOR, f'div.appointment[data-appointment="{appointment.pk}"]'
    )
    assert browser.save_screenshot(str(day_view_png))

    assert "Zebedee Quillfeather" in card.text
    assert "Initial assessment" in card.text
    assert "booked" in card.text.lower()
    assert f"{SLOT:%H:%M}" not in [
        slot.text.strip() for slot in column.find_elements(By.CSS_SELECTOR, "a.free-slot")
    ]
    assert success.text
    start = datetime.combine(tomorrow, SLOT, tzinfo=MELBOURNE)
    assert appointment.start == start
    assert (appointment.practitioner, appointment.location) == (myotherapist, location)
    assert appointment.service == assessment
    assert appointment.status == Status.BOOKED
    assert appointment.source == Source.RECEPTION
    assert appointment.created_by == front_desk
