"""Driving the booking site the way a keyboard user does: focus a control, press a key.

Every control is found by its visible label or text, as a person finds it, so a missing
label is a failing test.
"""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 15


def literal(text: str) -> str:
    """An XPath string literal for text that may contain quotes."""
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


class Site:
    def __init__(self, driver: WebDriver, origin: str, artifacts: Path) -> None:
        self.driver = driver
        self.origin = origin
        self.artifacts = artifacts

    def wait(self, seconds: float = WAIT_SECONDS) -> WebDriverWait:
        return WebDriverWait(self.driver, seconds)

    def open(self, route: str = "") -> None:
        self.driver.get(f"{self.origin}/{route}")

    def heading(self, text: str) -> WebElement:
        """Wait for the page whose <h1> says text; it has the focus, as a new page should."""
        xpath = f"//main//h1[normalize-space()={literal(text)}]"
        heading = self.wait().until(ec.visibility_of_element_located((By.XPATH, xpath)))
        self.wait().until(
            lambda d: d.switch_to.active_element == heading, f"focus is not on the {text!r} heading"
        )
        return heading

    def find(self, css: str, within: WebElement | None = None) -> WebElement:
        scope = within or self.driver
        return self.wait().until(lambda d: scope.find_element(By.CSS_SELECTOR, css))

    def visible(self, css: str) -> WebElement:
        return self.wait().until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def field(self, label: str, within: WebElement | None = None) -> WebElement:
        """The input that <label>label</label> names (the label is the only way in)."""
        scope = within or self.driver
        xpath = f".//label[normalize-space()={literal(label)}]"
        element = self.wait().until(
            lambda d: scope.find_element(By.XPATH, xpath), f"no field labelled {label!r}"
        )
        return self.driver.find_element(By.ID, element.get_attribute("for"))

    def type(self, label: str, text: str, within: WebElement | None = None) -> None:
        box = self.field(label, within)
        box.clear()
        box.send_keys(text)

    def tick(self, label: str, within: WebElement | None = None) -> None:
        """Check a checkbox or radio button with the space bar."""
        box = self.field(label, within)
        if not box.is_selected():
            box.send_keys(Keys.SPACE)
        assert box.is_selected(), label

    def press(self, text: str, within: WebElement | None = None) -> None:
        """Press the button (or follow the link) that says text, with Enter."""
        scope = within or self.driver
        xpath = (
            f".//*[self::button or self::a][normalize-space()={literal(text)} "
            f"or starts-with(normalize-space(), {literal(text + ' ')})]"
        )
        control = self.wait().until(
            lambda d: next(
                (c for c in scope.find_elements(By.XPATH, xpath) if c.is_displayed()), None
            ),
            f"no button or link {text!r}",
        )
        control.send_keys(Keys.ENTER)

    def text_appears(self, text: str, css: str = "main") -> WebElement:
        return self.wait().until(
            lambda d: next(
                (e for e in d.find_elements(By.CSS_SELECTOR, css) if text in e.text), None
            ),
            f"{text!r} never appeared in {css}",
        )

    def screenshot(self, path) -> None:
        assert self.driver.save_screenshot(str(path)), path
