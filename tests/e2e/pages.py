"""What the admin's browser tests do again and again: wait for a page, sign in, pick a
patient in the booking form's autocomplete."""

from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

MELBOURNE = ZoneInfo("Australia/Melbourne")
WAIT_SECONDS = 10
PASSWORD = "front desk e2e password"


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
    """Open the select2 dropdown of the patient autocomplete, unless it is open already (the
    form opens it itself when it comes from a grid cell)."""
    if driver.find_elements(By.CSS_SELECTOR, ".select2-container--open"):
        return
    for css in ("#id_patient + .select2 .select2-selection", ".field-patient .select2-selection"):
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if found:
            found[0].click()
            return
    pytest.fail("the booking form's patient field is not a select2 autocomplete")


def pick_patient(driver: WebDriver, typed: str, name: str, patient_id: int) -> WebElement:
    """Type part of a name into the open autocomplete and click the patient; returns the
    option clicked."""
    visible(driver, ".select2-container--open .select2-search__field").send_keys(typed)
    option = wait(driver).until(
        ec.element_to_be_clickable(
            (
                By.XPATH,
                f"//li[contains(@class, 'select2-results__option')][contains(., '{name}')]",
            )
        )
    )
    option.click()
    wait(driver).until(
        lambda d: (
            d.execute_script("return document.getElementById('id_patient').value")
            == str(patient_id)
        ),
        "the patient was not selected in the autocomplete",
    )
    return option
