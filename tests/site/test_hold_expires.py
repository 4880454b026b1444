"""A held time is offered to nobody else until the hold expires; then it comes back.

One visitor picks a time on the site (it is held for them); a second visitor, in another
tab (a session of their own), does not see it. The clock moves past the hold's life
(HOLD_MINUTES, the API's own clock: the live server runs in this process), and the second
visitor sees the time again.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.site.pages import Site

pytestmark = pytest.mark.django_db(transaction=True)


def free_times(page: Site) -> list[str]:
    """Returning visitor, myotherapy, Mia Myo: the times of the fifth day shown."""
    page.open()
    page.heading("Book an appointment")
    page.tick("Yes, I have been before")
    page.tick("Myotherapy 45 · 45 min · $110.00")
    page.tick("Mia Myo, Myotherapist")
    page.press("See free times")
    page.find(".days button")
    page.driver.find_elements(By.CSS_SELECTOR, ".days button")[4].send_keys(Keys.ENTER)
    page.find(".slots button")
    return [b.text.split()[0] for b in page.driver.find_elements(By.CSS_SELECTOR, ".slots button")]


def test_a_held_time_comes_back_when_the_hold_expires(
    browser, site, artifacts_dir, location, treatment_rooms, assessment, myotherapist, myotherapy
):
    holder = Site(browser, site, artifacts_dir)
    times = free_times(holder)
    held = times[0]
    browser.find_element(By.CSS_SELECTOR, ".slots button").send_keys(Keys.ENTER)
    holder.heading("Your appointment")
    holder.text_appears("We are holding this time for you until")
    holder.screenshot(artifacts_dir / "hold-1-held.png")

    browser.switch_to.new_window("tab")
    other = Site(browser, site, artifacts_dir)
    assert held not in free_times(other), "a held time is offered to someone else"

    later = datetime.now().astimezone() + timedelta(minutes=settings.HOLD_MINUTES, seconds=30)
    with time_machine.travel(later, tick=True):
        assert held in free_times(other), "the time did not come back when the hold expired"
        other.screenshot(artifacts_dir / "hold-2-back.png")
