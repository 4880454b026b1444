"""Reception's morning, in a real browser: log in, find the patient, open tomorrow's day
view, click a free slot, pick the patient in the booking form, book, see the booking.

Runs against the live server in real time (no frozen clock: the browser and the server must
agree on "now"), on tomorrow in Melbourne, through the staff pages, which ignore the online
lead time. Screenshots of the booking form and of the booked day go to test-artifacts/.
"""

from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from accounts.permissions import sync_role_group
from appointments.models import Appointment, Source, Status
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

MELBOURNE = ZoneInfo("Australia/Melbourne")
WAIT_SECONDS = 10
PASSWORD = "front desk e2e password"
SLOT = time(10)


@pytest.fixture
def front_desk(transactional_db):
    """A receptionist: staff login, in the Reception group, no permissions of their own.

    sync_role_group gives the group the permissions of the accounts migration again: an
    earlier transactional test's flush removes the migration's groups.
    """
    user = UserFactory(
        email="desk@clinic.example",
        first_name="Rita",
        last_name="Reception",
        is_staff=True,
        password=PASSWORD,
    )
    user.groups.add(sync_role_group("Reception"))
    return user


@pytest.fixture
def zebedee(db):
    """A patient nobody could mistake for another."""
    return PatientFactory(first_name="Zebedee", last_name="Quillfeather")


def wait(driver: WebDriver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def visible(driver: WebDriver, css: str) -> WebElement:
    return wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def log_in(driver: WebDriver, base_url: str, email: str, password: str) -> None:
    driver.get(f"{base_url}/admin/login/")
    visible(driver, "#id_username").send_keys(email)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    visible(driver, "#user-tools")
    assert driver.current_url == f"{base_url}/admin/", driver.current_url


def open_patient_select(driver: WebDriver) -> None:
    """Open the select2 dropdown of the patient autocomplete."""
    for css in ("#id_patient + .select2 .select2-selection", ".field-patient .select2-selection"):
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if found:
            found[0].click()
            return
    pytest.fail("the booking form's patient field is not a select2 autocomplete")


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
    column = visible(browser, f'div.practitioner-column[data-practitioner="{myotherapist.pk}"]')
    assert "Mia Myo" in column.text
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
    visible(browser, ".select2-container--open .select2-search__field").send_keys("Quillfe")
    option = wait(browser).until(
        ec.element_to_be_clickable(
            (
                By.XPATH,
                "//li[contains(@class, 'select2-results__option')]"
                "[contains(., 'Zebedee Quillfeather')]",
            )
        )
    )
    option.click()
    wait(browser).until(
        lambda d: (
            d.execute_script("return document.getElementById('id_patient').value")
            == str(zebedee.pk)
        ),
        "the patient was not selected in the autocomplete",
    )
    assert browser.save_screenshot(str(booking_form_png))

    # Book; back on the day view with the booking in the practitioner's column.
    browser.find_element(By.CSS_SELECTOR, 'button[name="book"], input[name="book"]').click()
    success = visible(browser, ".messagelist .success")
    landed = urlsplit(browser.current_url)
    assert landed.path == "/admin/appointments/appointment/day/", browser.current_url
    query = parse_qs(landed.query)
    assert query["date"] == [f"{tomorrow:%Y-%m-%d}"], browser.current_url
    assert query["location"] == [str(location.pk)], browser.current_url
    column = visible(browser, f'div.practitioner-column[data-practitioner="{myotherapist.pk}"]')
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
