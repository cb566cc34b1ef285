"""The support console in a real browser (Debian's chromium + chromedriver, headless, 1366 px wide):
log in, find a failed row by customer name, read its error, retry it, cancel another, open a customer.

Skipped, with the reason in pytest's summary, where chromium is not installed (`.ci/run` installs it).
Screenshots of the main pages are left in var/screenshots/ for people to look at.
"""

import shutil
from pathlib import Path

import pytest

from enrollments.models import ScheduledStep
from tests.outreach_queue.admin_scenario import PASSWORD, build_queue, superuser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        "browser test: chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402  (after the skip: selenium is only needed with chromium)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTH = 1366

pytestmark = pytest.mark.django_db(transaction=True)
Status = ScheduledStep.Status


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},900"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> None:
    """The whole page at 1366 px: the window grows to the page's height first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(max(height + 150, 700), 4000))  # + the window's own chrome
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(WIDTH, 900)


def messages(driver) -> str:
    return " ".join(li.text for li in driver.find_elements(By.CSS_SELECTOR, "ul.messagelist li"))


def press(driver, label: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'button[data-move="{label}"]').click()


def test_support_console_scenario(browser, live_server, company, fake_nylas):
    queue = build_queue(company, fake_nylas)
    superuser()

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys("support")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "Outreach queue" in browser.page_source
    screenshot(browser, "01_admin_index")

    browser.find_element(By.LINK_TEXT, "Queue rows").click()
    screenshot(browser, "02_queue_list")
    browser.find_element(By.LINK_TEXT, "Failed in the last day").click()
    assert "Crimson Consulting" in browser.page_source and "divides by zero" in browser.page_source
    screenshot(browser, "03_queue_failed_last_day")

    browser.get(f"{live_server.url}/admin/queue/queuerow/")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("Acme")
    search.submit()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("q=Acme"))
    assert "Bluebird Bakery" not in browser.page_source
    failed = browser.find_element(By.XPATH, "//tr[.//span[contains(@class,'badge-retrying')]]//th/a")
    failed.click()
    error = browser.find_element(By.ID, "row-error").text
    assert error == "Error: Nylas answered HTTP 503 (api_error): scripted 503"
    screenshot(browser, "04_row_failed")

    press(browser, "Retry now")
    assert "Acme Rockets, Day 0 reminder: sent to ap@acme.example." in messages(browser)
    queue.retrying.refresh_from_db()
    assert queue.retrying.status == Status.SENT
    screenshot(browser, "05_row_retried")

    browser.get(f"{live_server.url}/admin/queue/queuerow/{queue.to_cancel.pk}/change/")
    press(browser, "Cancel row")
    assert "Bluebird Bakery, Day 0 reminder: cancelled." in messages(browser)
    queue.to_cancel.refresh_from_db()
    assert queue.to_cancel.status == Status.CANCELLED

    browser.get(f"{live_server.url}/admin/queue/queuerow/{queue.call.pk}/change/")
    screenshot(browser, "06_row_call")
    browser.find_element(By.LINK_TEXT, "Acme Rockets").click()
    page = browser.page_source
    for panel in (
        "Enrollments",
        "Upcoming steps",
        "Recent steps",
        "Replies",
        "Promises to pay",
        "Suppressions",
    ):
        assert panel in page
    assert "Day 10 reminder" in page
    screenshot(browser, "07_customer")

    browser.get(f"{live_server.url}/admin/enrollments/enrollment/{queue.retrying.enrollment_id}/change/")
    screenshot(browser, "08_enrollment")
