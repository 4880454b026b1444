"""Reception's appointment book in a real browser: book a returning patient into an empty
cell of today's grid (three clicks and a name), move a booking by the grid, use the keys,
check a patient in from the arrivals list.

The server's clock is set to a Monday of the test calendar at 8:00 in Melbourne and runs on
from there (`time_machine` with tick: the live server runs in this process), so that today
has its working hours ahead whenever the suite runs; it travels forward, so the browser's
real clock keeps the session's cookie. Screenshots go to test-artifacts/.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from appointments.models import Appointment, Source, Status
from appointments.services import book_appointment
from tests.e2e.pages import PASSWORD, log_in, pick_patient, visible, wait
from tests.fixtures.clinic import TODAY, assess, at

pytestmark = pytest.mark.django_db(transaction=True)

TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def clinic_morning():
    with time_machine.travel(at(TODAY, 8), tick=True):
        yield


@pytest.fixture
def returning(zebedee, location, treatment_rooms, myotherapist, assessment):
    """Zebedee, assessed last month: a returning patient."""
    assess(zebedee, location, treatment_rooms[0], myotherapist, assessment)
    return zebedee


def grid_url(base: str, day, location, service) -> str:
    return (
        f"{base}/admin/appointments/appointment/day/"
        f"?date={day}&location={location.pk}&service={service.pk}"
    )


def screenshot(browser, artifacts_dir, name: str, showing=None) -> None:
    if showing is not None:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", showing)
    path = artifacts_dir / name
    path.unlink(missing_ok=True)
    assert browser.save_screenshot(str(path))


def test_books_a_returning_patient_into_an_empty_cell_in_three_clicks_and_a_name(
    clinic_morning,
    live_server,
    browser,
    artifacts_dir,
    front_desk,
    returning,
    location,
    myotherapy,
    myotherapist,
):
    log_in(browser, live_server.url, front_desk.email, PASSWORD)
    browser.get(grid_url(live_server.url, TODAY, location, myotherapy))
    lane = visible(browser, f'div.lane[data-practitioner="{myotherapist.pk}"]')
    screenshot(browser, artifacts_dir, "grid-day.png")

    # Click 1: the empty 10:00 cell of Mia's column.
    lane.find_element(By.CSS_SELECTOR, 'a.cell[aria-label^="Book at 10:00 with Mia Myo"]').click()
    checked = visible(browser, 'input[name="slot"]:checked')
    assert "10:00" in checked.find_element(By.XPATH, "./ancestor::label").text
    # The patient's search is already open: a name, then click 2 on the patient.
    pick_patient(browser, "Quillfe", "Zebedee Quillfeather", returning.pk)
    screenshot(browser, artifacts_dir, "grid-booking-form.png")
    # Click 3: book.
    browser.find_element(By.CSS_SELECTOR, 'button[name="book"]').click()

    visible(browser, ".messagelist .success")
    assert urlsplit(browser.current_url).path == "/admin/appointments/appointment/day/"
    appointment = Appointment.objects.get(patient=returning, status=Status.BOOKED)
    block = visible(browser, f'div.appointment[data-appointment="{appointment.pk}"]')
    screenshot(browser, artifacts_dir, "grid-booked.png", showing=block)
    assert "Zebedee Quillfeather" in block.text and "Myotherapy 45" in block.text
    assert appointment.start == at(TODAY, 10)
    assert (appointment.practitioner, appointment.source) == (myotherapist, Source.RECEPTION)
    assert appointment.created_by == front_desk


def test_moves_a_booking_by_the_grid_and_walks_the_days_by_keys(
    clinic_morning,
    live_server,
    browser,
    artifacts_dir,
    front_desk,
    returning,
    location,
    myotherapy,
    myotherapist,
):
    booked = book_appointment(
        patient=returning, service=myotherapy, practitioner=myotherapist, start=at(TOMORROW, 10)
    )
    log_in(browser, live_server.url, front_desk.email, PASSWORD)
    browser.get(grid_url(live_server.url, TOMORROW, location, myotherapy))

    block = visible(browser, f'div.appointment[data-appointment="{booked.pk}"]')
    block.find_element(By.CSS_SELECTOR, "a.move").click()
    two_pm = visible(browser, f'input[name="slot"][value$="|{int(at(TOMORROW, 14).timestamp())}"]')
    two_pm.click()
    screenshot(browser, artifacts_dir, "grid-move.png")
    browser.find_element(By.CSS_SELECTOR, 'button[name="move"]').click()

    visible(browser, ".messagelist .success")
    booked.refresh_from_db()
    assert booked.start == at(TOMORROW, 14)
    moved = visible(browser, f'div.appointment[data-appointment="{booked.pk}"]')
    screenshot(browser, artifacts_dir, "grid-moved.png", showing=moved)

    # The keys: → the next day, t today, / the patient search.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    wait(browser).until(lambda d: f"date={TOMORROW + timedelta(days=1)}" in d.current_url)
    browser.find_element(By.TAG_NAME, "body").send_keys("t")
    wait(browser).until(lambda d: f"date={TODAY}" in d.current_url)
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "grid-patient-search"


def test_checks_a_patient_in_from_the_arrivals_list(
    clinic_morning,
    live_server,
    browser,
    artifacts_dir,
    front_desk,
    returning,
    myotherapy,
    myotherapist,
):
    arriving = book_appointment(
        patient=returning, service=myotherapy, practitioner=myotherapist, start=at(TODAY, 10)
    )
    log_in(browser, live_server.url, front_desk.email, PASSWORD)
    browser.get(f"{live_server.url}/admin/appointments/appointment/arrivals/")

    row = visible(browser, f'tr[data-appointment="{arriving.pk}"]')
    row.find_element(By.CSS_SELECTOR, "button.check-in").click()

    visible(browser, ".messagelist .success")
    assert parse_qs(urlsplit(browser.current_url).query) == {}
    row = visible(browser, f'tr[data-appointment="{arriving.pk}"]')
    screenshot(browser, artifacts_dir, "arrivals-checked-in.png")
    assert "Checked in" in row.text
    arriving.refresh_from_db()
    assert arriving.status == Status.CHECKED_IN
