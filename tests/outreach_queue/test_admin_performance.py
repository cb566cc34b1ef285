"""The sequence performance page in admin: the selector's numbers on the page and in the charts' data,
who may open it, the date range's errors, and the empty state. Its charts in a real browser:
test_admin_browser.py."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders

from tests.factories.sequences import SequenceFactory
from tests.outreach_queue.performance_scenario import (
    EUR_COLLECTED,
    FIRST_SENT,
    SECOND_SENT,
    STARTED,
    USD_COLLECTED,
    build_performance,
)

pytestmark = pytest.mark.django_db
CHART_JS = "outreach_queue/vendor/chartjs/chart.umd.min.js"


def page_url(sequence, query: str = "") -> str:
    return f"/admin/queue/sequenceperformance/{sequence.pk}/performance/{query}"


def staff(client, *permissions: str):
    user = get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client.force_login(user)
    return client


def charts(response) -> dict:
    found = re.search(
        r'<script id="performance-charts" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert found, "no json_script block"
    return json.loads(found.group(1))


def text(response) -> str:
    return response.content.decode()


def test_the_page_shows_the_reports_numbers_and_hands_them_to_the_charts(client, company):
    scenario = build_performance(company)
    response = staff(client, "sequences.view_sequence").get(page_url(scenario.sequence))
    assert response.status_code == 200
    page = text(response)
    assert f'<p class="figure" id="card-started">{STARTED}</p>' in page
    assert USD_COLLECTED in page and EUR_COLLECTED in page
    assert '<p class="figure" id="card-median">3</p>' in page  # six paid after 3 days, three after 10
    assert "Experiment: Day 0 reminder" in page and "Too few emails to call a winner" in page
    assert "50.0%" in page and "30.0%" in page  # friendly 6 of 12, firm 3 of 10 paid within 14 days
    data = charts(response)
    assert data["funnel"]["labels"] == ["Day 0 reminder", "Day 7 reminder", "Day 9 call"]
    assert data["funnel"]["sent"] == [FIRST_SENT, SECOND_SENT, 0]
    assert data["funnel"]["replied"] == [2, 0, 0]  # the out-of-office is not a reply
    assert data["funnel"]["paid14"][0] == 9
    assert data["paidWithin"]["7"][0] == round(6 / FIRST_SENT * 100, 1)
    [experiment] = data["variants"]
    assert experiment["keys"] == ["friendly", "firm", "holdout"]
    assert experiment["rates"] == [50.0, 30.0, 33.3]
    assert experiment["holdout"] == [False, False, True]
    low, high = experiment["intervals"][0]
    assert low < 50.0 < high
    # The library is a local static file the page loads (no CDN).
    assert finders.find(CHART_JS) is not None
    assert f"/static/{CHART_JS}" in page and "cdn" not in page.lower()
    assert "/static/outreach_queue/performance.js" in page


def test_a_range_before_the_history_shows_the_empty_state(client, company):
    scenario = build_performance(company)
    response = staff(client, "sequences.view_sequence").get(
        page_url(scenario.sequence, "?date_from=2020-01-01&date_to=2020-01-31")
    )
    assert response.status_code == 200
    page = text(response)
    assert 'id="performance-empty"' in page and "performance-charts" not in page.split("</form>")[1]
    assert '<p class="figure" id="card-started">0</p>' in page


def test_a_sequence_without_steps_renders(client, company):
    sequence = SequenceFactory(company=company)
    response = staff(client, "sequences.view_sequence").get(page_url(sequence))
    assert response.status_code == 200 and 'id="performance-empty"' in text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2026-05-01&date_to=2026-01-01", "must be on or before"),
        ("?date_from=yesterday&date_to=2026-01-01", "Enter a valid date."),
        ("?date_from=2026-02-30&date_to=2026-03-01", "Enter a valid date."),
        ("?date_from=9999-01-01", "must be on or before"),  # `to` left empty: today
    ],
)
def test_bad_dates_are_told_on_the_page_not_a_500(client, company, query, message):
    scenario = build_performance(company)
    response = staff(client, "sequences.view_sequence").get(page_url(scenario.sequence, query))
    assert response.status_code == 200
    page = text(response)
    assert message in page and 'class="errorlist' in page
    assert "performance-charts" not in page.split("</form>")[1]  # no numbers for a range it refused


def test_an_end_left_empty_takes_the_default(client, company):
    scenario = build_performance(company)
    client = staff(client, "sequences.view_sequence")
    response = client.get(page_url(scenario.sequence, "?date_from=2020-01-01&date_to="))
    assert response.status_code == 200
    assert f'<p class="figure" id="card-started">{STARTED}</p>' in text(response)
    assert 'name="date_from" value="2020-01-01"' in text(response)


def test_the_widest_range_a_date_can_hold_answers(client, company):
    scenario = build_performance(company)
    response = staff(client, "sequences.view_sequence").get(
        page_url(scenario.sequence, "?date_from=0001-01-01&date_to=9999-12-31")
    )
    assert response.status_code == 200
    assert f'<p class="figure" id="card-started">{STARTED}</p>' in text(response)


def test_each_sequence_shows_only_its_own_numbers(client, company, other_company):
    """Admin is for support staff across companies: the sequence in the URL decides whose numbers."""
    ours = build_performance(company)
    theirs = build_performance(other_company, name="Their reminders")
    SequenceFactory(company=company)  # and a sequence with no history at all
    client = staff(client, "sequences.view_sequence")
    for sequence in (ours.sequence, theirs.sequence):
        data = charts(client.get(page_url(sequence)))
        assert data["funnel"]["sent"] == [FIRST_SENT, SECOND_SENT, 0]


def test_opening_the_page_needs_view_permission_on_sequences(client, company):
    scenario = build_performance(company)
    assert staff(client).get(page_url(scenario.sequence)).status_code == 403
    assert client.get("/admin/queue/sequenceperformance/").status_code == 403


def test_someone_not_logged_in_is_sent_to_the_login_page(client, company):
    scenario = build_performance(company)
    response = client.get(page_url(scenario.sequence))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_an_unknown_sequence_is_404(client, company):
    response = staff(client, "sequences.view_sequence").get(
        "/admin/queue/sequenceperformance/00000000-0000-0000-0000-000000000000/performance/"
    )
    assert response.status_code == 404


def test_the_list_and_the_sequence_page_link_to_it(client, company):
    scenario = build_performance(company)
    client = staff(client, "sequences.view_sequence")
    index = text(client.get("/admin/"))
    assert "/admin/queue/sequenceperformance/" in index
    listing = text(client.get("/admin/queue/sequenceperformance/?q=Net-30"))
    assert page_url(scenario.sequence) in listing
    sequence_page = text(client.get(f"/admin/sequences/sequence/{scenario.sequence.pk}/change/"))
    assert page_url(scenario.sequence) in sequence_page
    sequences = text(client.get("/admin/sequences/sequence/"))
    assert page_url(scenario.sequence) in sequences
    # The proxy's own change page is the performance page.
    response = client.get(f"/admin/queue/sequenceperformance/{scenario.sequence.pk}/change/")
    assert response.status_code == 302 and response["Location"] == page_url(scenario.sequence)
