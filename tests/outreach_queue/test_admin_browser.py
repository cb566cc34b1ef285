"""The support console in a real browser (Debian's chromium + chromedriver, headless, 1366 px wide):
log in, find a failed row by customer name, read its error, retry it, cancel another, open a customer;
and a sequence's performance page, its charts drawn by Chart.js from the page's data.

Skipped, with the reason in pytest's summary, where chromium is not installed (`.ci/run` installs it).
Screenshots of the main pages are left in var/screenshots/ for people to look at.
"""

import shutil
from pathlib import Path

import pytest

from enrollments.models import ScheduledStep
from tests.outreach_queue.admin_scenario import PASSWORD, build_queue, superuser
from tests.outreach_queue.performance_scenario import FIRST_SENT, SECOND_SENT, build_performance

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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for script errors
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


def console_errors(driver) -> list[str]:
    """The page's console errors, less the favicon every admin page asks for and does not have."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]


def follow(driver, element) -> None:
    """Click what leads to another page and wait until that page has loaded. A click returns once the
    browser has the event, not the next page, so reading page_source straight after it can read the
    old page (CI once read the login form after pressing "Log in"). The old page is marked on its
    window object, which a new document replaces. (Selenium's staleness_of can fail in chromedriver
    with "Node with given id does not belong to the document" while the page changes.)"""
    driver.execute_script("window.__daylitOldPage = true")
    element.click()
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return !window.__daylitOldPage && document.readyState === 'complete'")
    )


def log_in(driver, live_server) -> None:
    driver.get(f"{live_server.url}/admin/login/?next=/admin/")
    driver.find_element(By.NAME, "username").send_keys("support")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))


def press(driver, label: str) -> None:
    follow(driver, driver.find_element(By.CSS_SELECTOR, f'button[data-move="{label}"]'))


def test_support_console_scenario(browser, live_server, company, fake_nylas):
    queue = build_queue(company, fake_nylas)
    superuser()

    log_in(browser, live_server)
    assert "Outreach queue" in browser.page_source
    screenshot(browser, "01_admin_index")

    follow(browser, browser.find_element(By.LINK_TEXT, "Queue rows"))
    screenshot(browser, "02_queue_list")
    follow(browser, browser.find_element(By.LINK_TEXT, "Failed in the last day"))
    assert "Crimson Consulting" in browser.page_source and "divides by zero" in browser.page_source
    screenshot(browser, "03_queue_failed_last_day")

    browser.get(f"{live_server.url}/admin/queue/queuerow/")
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("Acme")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "#changelist-search input[type=submit]"))
    assert "q=Acme" in browser.current_url
    assert "Bluebird Bakery" not in browser.page_source
    failed = browser.find_element(By.XPATH, "//tr[.//span[contains(@class,'badge-retrying')]]//th/a")
    follow(browser, failed)
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
    follow(browser, browser.find_element(By.LINK_TEXT, "Acme Rockets"))
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


# Each chart's canvas, its number of bars per dataset and of datasets, as Chart.js holds them.
CHARTS_DRAWN = """
return Array.from(document.querySelectorAll("canvas")).map(function (canvas) {
  var chart = Chart.getChart(canvas);
  return chart ? [canvas.id, chart.data.labels.length, chart.data.datasets.length,
                  chart.getDatasetMeta(0).data.length] : [canvas.id, null, null, null];
});
"""


def test_sequence_performance_charts(browser, live_server, company):
    scenario = build_performance(company)
    superuser()
    log_in(browser, live_server)

    browser.get(f"{live_server.url}/admin/sequences/sequence/{scenario.sequence.pk}/change/")
    follow(browser, browser.find_element(By.LINK_TEXT, "Funnel, payments, experiments"))
    WebDriverWait(browser, 10).until(
        lambda driver: driver.execute_script(
            "return typeof Chart !== 'undefined' && !!Chart.getChart(document.getElementById('chart-funnel'))"
        )
    )
    drawn = browser.execute_script(CHARTS_DRAWN)
    # Three steps, four series (ready, sent, replied, paid) and three windows; the experiment's three arms.
    assert drawn == [["chart-funnel", 3, 4, 3], ["chart-paid-within", 3, 3, 3], ["variants-0", 3, 1, 3]]
    sent = browser.execute_script("return Chart.getChart('chart-funnel').data.datasets[1].data")
    assert sent == [FIRST_SENT, SECOND_SENT, 0]
    assert "Too few emails to call a winner" in browser.page_source
    assert console_errors(browser) == []
    screenshot(browser, "09_sequence_performance")

    # A range with no history: the empty state, no canvas, and still no script error.
    # Set as the input's value (ISO), which does not depend on how the browser's locale shows dates.
    for field, day in (("id_date_from", "2020-01-01"), ("id_date_to", "2020-01-31")):
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), day)
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.performance-range button"))
    assert "date_from=2020-01-01" in browser.current_url
    assert browser.find_element(By.ID, "performance-empty").is_displayed()
    assert browser.find_elements(By.TAG_NAME, "canvas") == []
    assert console_errors(browser) == []
    screenshot(browser, "10_sequence_performance_empty")

    # A range the wrong way round: said on the page, nothing drawn.
    browser.get(browser.current_url.split("?")[0] + "?date_from=2026-05-01&date_to=2026-01-01")
    assert "must be on or before" in browser.find_element(By.CSS_SELECTOR, "ul.errorlist").text
    assert browser.find_elements(By.TAG_NAME, "canvas") == []
    assert console_errors(browser) == []
    screenshot(browser, "11_sequence_performance_bad_range")
