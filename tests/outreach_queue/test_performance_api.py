"""GET .../sequences/{id}/performance: every number against data built for it (docs/performance.md)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from daylit.models import Invoice
from enrollments.models import Enrollment, ScheduledStep
from enrollments.scheduling import local_today
from outreach_queue import performance
from outreach_queue.models import ReplyClass
from outreach_queue.performance import sequence_performance
from sequences.models import SequenceStep
from tests.conftest import company_url
from tests.factories.core import CustomerFactory, InvoiceFactory
from tests.factories.enrollments import EnrollmentFactory, ScheduledStepFactory
from tests.factories.outreach_queue import ReplyFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

Status = ScheduledStep.Status
UTC = datetime.UTC
# The range asked for: June 2026 in New York, i.e. [2026-06-01 04:00Z, 2026-07-01 04:00Z).
RANGE = {"from": "2026-06-01", "to": "2026-06-30"}
IN_RANGE = datetime.datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
BEFORE = datetime.datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
AFTER = datetime.datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
SENT_AT = datetime.datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
# Payments of step 1's emails: days after the send, currency, amount.
PAYMENTS = [
    (6, "USD", "100.00"),
    (7, "EUR", "200.00"),
    (8, "USD", "300.00"),
    (13, "EUR", "400.00"),
    (14, "USD", "500.00"),
    (15, "EUR", "600.00"),
    (29, "USD", "700.00"),
    (30, "EUR", "800.00"),
    (31, "USD", "900.00"),
]


def url(company, sequence, **query):
    path = company_url(company, f"sequences/{sequence.id}/performance")
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def enroll(sequence, *, created=IN_RANGE, invoice=True, **fields):
    """An enrollment created at `created`, with its own invoice (open unless `invoice` is a dict)."""
    customer = CustomerFactory(company=sequence.company)
    inv = None
    if invoice:
        inv = InvoiceFactory(customer=customer, **(invoice if isinstance(invoice, dict) else {}))
    enrollment = EnrollmentFactory(sequence=sequence, customer=customer, invoice=inv, **fields)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=created)
    return enrollment


def paid(days_after, currency="USD", amount="100.00", *, since=SENT_AT):
    return {
        "status": Invoice.Status.PAID,
        "paid_at": since + days_after * DAY,
        "currency": currency,
        "amount_due": Decimal(amount),
    }


def row(enrollment, step, status=Status.SENT, at=SENT_AT, **fields):
    """A row of `step` that reached `status` at `at` (ready an hour before, planned two before)."""
    fields.setdefault("scheduled_for", at - datetime.timedelta(hours=2))
    fields.setdefault("ready_at", at - datetime.timedelta(hours=1) if status != Status.SCHEDULED else None)
    processed = at if status in ScheduledStep.END_STATES else None
    return ScheduledStepFactory(
        enrollment=enrollment, step=step, status=status, processed_at=processed, **fields
    )


@pytest.fixture
def world(company):
    """A sequence of three steps (a reminder, a reminder with variants a/b and a 20% holdout, a call)
    and the June activity every test below reads."""
    sequence = SequenceFactory(company=company, status="active", timezone="America/New_York")
    first = SequenceStepFactory(sequence=sequence, label="Day 0", offset_days=0)
    tested = SequenceStepFactory(
        sequence=sequence,
        label="Day 7",
        offset_days=7,
        variants=[{"key": "a", "weight": 50}, {"key": "b", "weight": 50}],
        holdout_percent=20,
    )
    call = SequenceStepFactory(sequence=sequence, label="Call", offset_days=10, step_type="call")
    w = {"sequence": sequence, "first": first, "tested": tested, "call": call}

    # Step 1: nine emails sent on June 10, paid 6..31 days later in two currencies.
    w["paid_rows"] = [
        row(enroll(sequence, invoice=paid(days, currency, amount)), first)
        for days, currency, amount in PAYMENTS
    ]
    # Paid the day before the email (not credited to it, but collected), and never paid.
    row(enroll(sequence, invoice=paid(-1, "USD", "50.00")), first)
    unpaid = row(enroll(sequence), first)
    # A bounce of an email sent in June; one of an email sent in May (outside the range).
    row(enroll(sequence), first, error="bounced: mailbox full")
    row(enroll(sequence, created=BEFORE), first, at=BEFORE, error="bounced: no such user")
    # Other end states of step 1, in and out of the range; a row still ready (ready in June).
    row(enroll(sequence), first, Status.FAILED, error="suppressed: bounce")
    row(enroll(sequence), first, Status.FAILED, at=AFTER)
    row(enroll(sequence), first, Status.CANCELLED)
    row(enroll(sequence), first, Status.READY, at=IN_RANGE)
    row(enroll(sequence), first, Status.SCHEDULED, at=AFTER)
    # The call: completed in June, and one in July.
    row(enroll(sequence), call, Status.COMPLETED)
    row(enroll(sequence), call, Status.COMPLETED, at=AFTER)

    # Replies to step 1's emails: three classes in June, one in July.
    for classification in ("promise", "promise", "dispute", "auto_reply"):
        ReplyFactory(row=unpaid, classification=classification, received_at=SENT_AT + DAY)
    ReplyFactory(row=unpaid, classification="question", received_at=AFTER)

    # Step 2, arm a: four emails on June 12, two paid within 14 days (3 and 10), one after 20.
    tested_at = SENT_AT + 2 * DAY
    a_rows = [
        row(enroll(sequence, invoice=invoice), tested, at=tested_at, variant_key="a")
        for invoice in (paid(3, since=tested_at), paid(10, since=tested_at), paid(20, since=tested_at), True)
    ]
    ReplyFactory(row=a_rows[3], classification="question", received_at=tested_at + DAY)
    ReplyFactory(row=a_rows[2], classification="auto_reply", received_at=tested_at + DAY)
    # Arm b: two emails, nothing paid.
    for _ in range(2):
        row(enroll(sequence), tested, at=tested_at, variant_key="b")
    # Holdout: three rows that would have gone on June 12, one paid 5 days after; none sent.
    for invoice in (paid(5, since=tested_at), True, True):
        row(
            enroll(sequence, invoice=invoice),
            tested,
            Status.CANCELLED,
            at=tested_at,
            scheduled_for=tested_at,
            variant_key="holdout",
            error="holdout",
            ready_at=None,
        )

    # Enrollments completed in June with each stop reason, one completed in May; one paused.
    reasons = ["paid", "replied", "bounced", "finished", "stopped", "re_enrolled", "sequence_archived"]
    for reason in [*reasons, "replied"]:
        enroll(
            sequence,
            status=Enrollment.Status.COMPLETED,
            stop_reason=reason,
            completed_at=SENT_AT + 3 * DAY,
        )
    enroll(
        sequence,
        created=BEFORE,
        status=Enrollment.Status.COMPLETED,
        stop_reason="dispute_upheld",
        completed_at=BEFORE,
    )
    enroll(sequence, status=Enrollment.Status.PAUSED, paused_at=SENT_AT)
    enroll(sequence, created=AFTER)  # started in July
    return w


def test_enrollments_started_active_paused_and_completed(api, company, world):
    response = api.get(url(company, world["sequence"], **RANGE))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["sequence_id"] == str(world["sequence"].id)
    assert (body["from"], body["to"]) == ("2026-06-01", "2026-06-30")
    # Started in June: every enrollment but the two of May and the one of July.
    started = Enrollment.objects.filter(sequence=world["sequence"]).count() - 3
    assert body["enrollments"] == {
        "started": started,
        "active": started - 8 - 1,  # the eight completed in June and the paused one
        "paused": 1,
        "completed": {
            "bounced": 1,
            "finished": 1,
            "paid": 1,
            "re_enrolled": 1,
            "replied": 2,
            "sequence_archived": 1,
            "stopped": 1,
        },
    }


def test_step_rows_bounces_and_replies(api, company, world):
    body = api.get(url(company, world["sequence"], **RANGE)).json()
    steps = {step["label"]: step for step in body["steps"]}
    assert [step["label"] for step in body["steps"]] == ["Day 0", "Day 7", "Call"]  # schedule order
    first = steps["Day 0"]
    assert first["step_id"] == str(world["first"].id)
    assert first["step_type"] == "reminder"
    # 9 paid + paid before + unpaid + bounced = 12 sent in June; ready: those, the failed and cancelled
    # of June and the ready row (the July failure was ready in July, the May bounce in May).
    assert first["rows"] == {"ready": 15, "sent": 12, "failed": 1, "cancelled": 1, "completed": 0}
    assert first["bounced"] == 1
    assert first["replies"] == {
        **dict.fromkeys(ReplyClass.values, 0),
        "promise": 2,
        "dispute": 1,
        "auto_reply": 1,
    }
    assert steps["Call"]["rows"] == {"ready": 1, "sent": 0, "failed": 0, "cancelled": 0, "completed": 1}
    # Held-out rows are cancelled rows, but no email was cancelled: they are only in the variants.
    assert steps["Day 7"]["rows"] == {"ready": 6, "sent": 6, "failed": 0, "cancelled": 0, "completed": 0}
    assert steps["Day 7"]["replies"]["question"] == 1


def test_paid_within_is_cumulative_per_currency_and_rated_by_emails_sent(api, company, world):
    first = api.get(url(company, world["sequence"], **RANGE)).json()["steps"][0]
    assert first["paid_within"] == {
        "7": {
            "count": 2,
            "rate": round(2 / 12, 4),
            "amounts": [{"currency": "EUR", "amount": "200.00"}, {"currency": "USD", "amount": "100.00"}],
        },
        "14": {
            "count": 5,
            "rate": round(5 / 12, 4),
            "amounts": [{"currency": "EUR", "amount": "600.00"}, {"currency": "USD", "amount": "900.00"}],
        },
        "30": {
            "count": 8,
            "rate": round(8 / 12, 4),
            "amounts": [{"currency": "EUR", "amount": "2000.00"}, {"currency": "USD", "amount": "1600.00"}],
        },
    }
    call = api.get(url(company, world["sequence"], **RANGE)).json()["steps"][2]
    assert call["paid_within"]["14"] == {"count": 0, "rate": None, "amounts": []}  # no email, no rate


def test_collected_once_per_invoice_and_median_days_to_pay(api, company, world):
    body = api.get(url(company, world["sequence"], **RANGE)).json()
    # Paid in June: step 1's invoices paid 6..15 days after June 10 (not 29..31: July), the one paid the
    # day before its email, and arm a's paid 3 and 10 days after June 12 (USD 100 each; 20 days: July 2)
    # and the holdout's paid 5 days after.
    assert body["collected"] == [
        {"currency": "EUR", "amount": "1200.00"},
        {"currency": "USD", "amount": str(Decimal("900.00") + Decimal("50.00") + 3 * Decimal("100.00"))},
    ]
    # From the first email to the payment, over June's payments that followed an email:
    # 6, 7, 8, 13, 14, 15 (step 1) and 3, 10 (arm a); the holdout's and the early one had no email.
    assert body["median_days_to_pay"] == 9.0


def test_variants_with_wilson_intervals_and_probability_best(api, company, world):
    body = api.get(url(company, world["sequence"], **RANGE)).json()
    first, tested, call = body["steps"]
    assert first["variants"] == [] and call["variants"] == []
    arms = {arm["key"]: arm for arm in tested["variants"]}
    assert [arm["key"] for arm in tested["variants"]] == ["a", "b", "holdout"]
    assert arms["a"]["enrollments"] == 4 and arms["a"]["sent"] == 4
    assert arms["a"]["reply_rate"] == 0.25  # the question, not the auto-reply
    assert arms["a"]["paid_within_14"] == {"count": 2, "rate": 0.5, "interval": [0.1500, 0.8500]}
    assert arms["b"]["paid_within_14"] == {"count": 0, "rate": 0.0, "interval": [0.0, 0.6576]}
    assert arms["b"]["reply_rate"] == 0.0
    holdout = arms["holdout"]
    assert (holdout["enrollments"], holdout["sent"], holdout["reply_rate"]) == (3, 0, None)
    assert holdout["paid_within_14"] == {"count": 1, "rate": 0.3333, "interval": [0.0615, 0.7923]}
    chances = [arm["probability_best"] for arm in tested["variants"]]
    assert sum(chances) == pytest.approx(1.0, abs=1e-3)
    assert chances[0] > chances[2] > chances[1]
    # Seeded from the step: the same answer on every call.
    assert (
        api.get(url(company, world["sequence"], **RANGE)).json()["steps"][1]["variants"] == tested["variants"]
    )


def test_a_holdout_without_variants_reports_the_default_arm(api, company):
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=sequence, holdout_percent=10)
    row(enroll(sequence, invoice=paid(2)), step)
    row(enroll(sequence), step)
    row(enroll(sequence), step, Status.CANCELLED, variant_key="holdout", error="holdout", ready_at=None)
    # Held out, but its email would go in the future: not measured yet.
    future = timezone.now() + 2 * DAY
    row(
        enroll(sequence), step, Status.CANCELLED, variant_key="holdout", error="holdout", scheduled_for=future
    )
    to = local_today(sequence.timezone) + datetime.timedelta(days=5)
    arms = api.get(url(company, sequence, **{"from": "2026-06-01", "to": to.isoformat()})).json()
    arms = arms["steps"][0]["variants"]
    assert [(arm["key"], arm["enrollments"], arm["sent"]) for arm in arms] == [
        ("default", 2, 2),
        ("holdout", 2, 0),
    ]
    assert arms[0]["paid_within_14"]["count"] == 1 and arms[0]["paid_within_14"]["rate"] == 0.5
    assert arms[1]["paid_within_14"] == {"count": 0, "rate": 0.0, "interval": [0.0, 0.7935]}


def test_the_holdout_counts_only_rows_whose_email_would_have_gone_out(api, company):
    """As a variant's row is cancelled, never sent, when its enrollment stops or its invoice is paid first,
    a held-out row counts only if its enrollment still ran and its invoice was unpaid at its time."""
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=sequence, holdout_percent=50)
    planned = SENT_AT - 2 * DAY

    def held(enrollment):
        row(enrollment, step, Status.CANCELLED, variant_key="holdout", error="holdout", scheduled_for=planned)

    held(enroll(sequence, invoice=paid(5, since=planned)))  # counted, and paid within 14 days
    held(enroll(sequence))  # counted, unpaid
    held(enroll(sequence, invoice=paid(-1, since=planned)))  # paid the day before: not counted
    stopped = enroll(sequence, status="completed", stop_reason="stopped", completed_at=planned - DAY)
    held(stopped)  # stopped before: not counted
    last = enroll(sequence, status="completed", stop_reason="finished", completed_at=planned - DAY)
    held(last)  # finished with its step before: the email would still have gone, counted
    arms = api.get(url(company, sequence, **RANGE)).json()["steps"][0]["variants"]
    holdout = next(arm for arm in arms if arm["key"] == "holdout")
    assert holdout["enrollments"] == 5  # assigned
    assert holdout["paid_within_14"]["count"] == 1
    assert holdout["paid_within_14"]["rate"] == round(1 / 3, 4)


def test_an_arm_without_emails_has_no_rate_interval_or_chance(api, company):
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(
        sequence=sequence, variants=[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]
    )
    row(enroll(sequence), step, variant_key="a")
    arms = api.get(url(company, sequence, **RANGE)).json()["steps"][0]["variants"]
    assert arms[1] == {
        "key": "b",
        "enrollments": 0,
        "sent": 0,
        "reply_rate": None,
        "paid_within_14": {"count": 0, "rate": None, "interval": None},
        "probability_best": None,
    }
    assert arms[0]["probability_best"] == 1.0


def test_an_enrollment_without_invoice_is_credited_with_the_customers_open_invoices(api, company):
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=sequence)
    enrollment = enroll(sequence, invoice=False)
    existing = InvoiceFactory(customer=enrollment.customer, **paid(5, amount="10.00"))
    later = InvoiceFactory(customer=enrollment.customer, **paid(6, amount="20.00"))
    Invoice.objects.filter(pk=existing.pk).update(created_at=SENT_AT - 30 * DAY)
    Invoice.objects.filter(pk=later.pk).update(created_at=SENT_AT + DAY)  # issued after the email
    # Another customer's payment is no one's credit.
    InvoiceFactory(customer=CustomerFactory(company=company), **paid(5, amount="40.00"))
    row(enrollment, step)
    body = api.get(url(company, sequence, **RANGE)).json()
    assert body["steps"][0]["paid_within"]["7"] == {
        "count": 1,
        "rate": 1.0,
        "amounts": [{"currency": "USD", "amount": "10.00"}],
    }
    # Collected: the customer's invoices paid while the enrollment ran (both), not the other customer's.
    assert body["collected"] == [{"currency": "USD", "amount": "30.00"}]
    # Days to pay run from an email about the invoice: the later one had none (it came after).
    assert body["median_days_to_pay"] == 5.0


def test_another_sequences_activity_is_not_counted(api, company, world):
    other = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=other)
    row(enroll(other, invoice=paid(3)), step)
    body = api.get(url(company, other, **RANGE)).json()
    assert body["enrollments"]["started"] == 1
    assert body["collected"] == [{"currency": "USD", "amount": "100.00"}]
    assert body["steps"][0]["rows"]["sent"] == 1


def test_the_query_count_does_not_grow_with_steps_or_rows(company):
    def queries(steps, rows_per_step):
        sequence = SequenceFactory(company=company, status="active")
        for _ in range(steps):
            step = SequenceStepFactory(
                sequence=sequence, variants=[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]
            )
            for n in range(rows_per_step):
                sent = row(enroll(sequence, invoice=paid(n)), step, variant_key="ab"[n % 2])
                ReplyFactory(row=sent, classification="promise", received_at=SENT_AT + DAY)
        with CaptureQueriesContext(connection) as captured:
            sequence_performance(
                company=company,
                sequence=sequence,
                date_from=datetime.date(2026, 6, 1),
                date_to=datetime.date(2026, 6, 30),
            )
        return len(captured)

    # The steps, then in a savepoint the planner settings and the five aggregates.
    assert queries(1, 1) == queries(4, 5) == 9


# --- the range ---------------------------------------------------------------------------------------


def test_the_default_range_is_the_last_90_days_in_the_sequences_timezone(api, company):
    sequence = SequenceFactory(company=company, status="active", timezone="Pacific/Kiritimati")
    today = local_today("Pacific/Kiritimati")
    body = api.get(url(company, sequence)).json()
    assert (body["from"], body["to"]) == ((today - 89 * DAY).isoformat(), today.isoformat())
    body = api.get(url(company, sequence, to="2026-03-31")).json()
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-03-31")
    body = api.get(url(company, sequence, **{"from": "2026-03-01"})).json()
    assert (body["from"], body["to"]) == ("2026-03-01", today.isoformat())


def test_whole_local_days_bound_the_range(api, company):
    sequence = SequenceFactory(company=company, status="active", timezone="America/New_York")
    step = SequenceStepFactory(sequence=sequence)
    # 03:59Z on June 1 is still May 31 in New York; 03:59Z on July 1 is June 30 there.
    row(enroll(sequence), step, at=datetime.datetime(2026, 6, 1, 3, 59, tzinfo=UTC))
    row(enroll(sequence), step, at=datetime.datetime(2026, 7, 1, 3, 59, tzinfo=UTC))
    row(enroll(sequence), step, at=datetime.datetime(2026, 7, 1, 4, 0, tzinfo=UTC))
    assert api.get(url(company, sequence, **RANGE)).json()["steps"][0]["rows"]["sent"] == 1
    one_day = api.get(url(company, sequence, **{"from": "2026-05-31", "to": "2026-05-31"})).json()
    assert one_day["steps"][0]["rows"]["sent"] == 1


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"from": "2026-06-30", "to": "2026-06-01"}, {"from", "to"}),
        ({"from": "2026-13-01"}, {"from"}),
        ({"to": "06/30/2026"}, {"to"}),
        ({"to": "20260630"}, {"to"}),  # ISO 8601's basic form: only YYYY-MM-DD is taken
        ({"from": "2026-W23-1"}, {"from"}),
        ({"from": ""}, {"from"}),
        ({"from": "9999-12-31"}, {"from"}),  # after today, the default `to`
    ],
)
def test_bad_ranges_are_400_naming_the_parameter(api, company, query, fields):
    sequence = SequenceFactory(company=company)
    response = api.get(url(company, sequence, **query))
    assert response.status_code == 400
    assert set(response.json()) == fields


def test_repeated_parameter_is_400(api, company):
    sequence = SequenceFactory(company=company)
    response = api.get(url(company, sequence) + "?to=2026-06-01&to=2026-06-02")
    assert response.status_code == 400
    assert "to" in response.json()


def test_the_first_and_last_dates_answer(api, company):
    sequence = SequenceFactory(company=company)
    response = api.get(url(company, sequence, **{"from": "0001-01-01", "to": "9999-12-31"}))
    assert response.status_code == 200
    assert api.get(url(company, sequence, to="0001-01-02")).json()["from"] == "0001-01-01"


# --- who may ask ---------------------------------------------------------------------------------------


def test_no_token_is_401(anon, company):
    sequence = SequenceFactory(company=company)
    assert anon.get(url(company, sequence)).status_code == 401


def test_another_companys_sequence_is_404(api, company, other_company, outsider_api):
    theirs = SequenceFactory(company=other_company)
    response = api.get(url(company, theirs))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # And a member of another company does not see this one's.
    assert outsider_api.get(url(company, SequenceFactory(company=company))).status_code == 404


def test_the_operation_documents_its_answers(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = document["paths"]["/api/companies/{company_id}/sequences/{sequence_id}/performance"]["get"]
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to"}


# --- the plans: each statement reads through its own index --------------------------------------------


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        ("ENROLLMENTS_SQL", "enroll_completed"),
        ("CUSTOMER_CREDITS_SQL", "enroll_customer_level"),
        ("REPLIES_SQL", "sched_bounced"),
        ("ROWS_SQL", "sched_experiment"),
        ("ROWS_SQL", "invoice_company_paid"),
        ("COLLECTED_SQL", "invoice_company_paid"),
    ],
)
def test_each_statement_can_use_its_partial_index(company, statement, index):
    """A partial index's predicate must be implied by the statement's (`status = 'completed'`, `invoice_id
    IS NULL`, `error LIKE 'bounced:%'`, `step_type = 'reminder'`, `status = 'paid'`), or PostgreSQL never
    uses it."""

    sequence = SequenceFactory(company=company)
    params = {
        "company": company.pk,
        "sequence": sequence.pk,
        "start": SENT_AT,
        "end": AFTER,
        "now": AFTER,
        "experiments": [SequenceStepFactory(sequence=sequence).pk],
    }
    # Enough enrollments and rows outside each partial index that reading through it is the cheapest way.
    step = SequenceStep.objects.get(pk=params["experiments"][0])
    for _ in range(60):
        enrollment = enroll(sequence)  # with an invoice of its own: outside `enroll_customer_level`
        ScheduledStepFactory(enrollment=enrollment, step=step, status=Status.SENT, processed_at=SENT_AT)
    table = {
        "enroll": "enrollments_enrollment",
        "sched": "enrollments_scheduledstep",
        "invoice": "daylit_invoice",
    }[index.split("_")[0]]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enrollments_enrollment")
        cursor.execute("ANALYZE enrollments_scheduledstep")
        cursor.execute("ANALYZE daylit_invoice")
        cursor.execute("SET LOCAL enable_seqscan = off")  # the tiny test tables would be scanned
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # On tiny tables any index matching the sequence costs the same: leave the planner only this
        # one (dropped inside the test's transaction, which rolls back).
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND c.relname <> %s",
            [table, index],
        )
        for (other,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{other}"')
        cursor.execute("EXPLAIN " + getattr(performance, statement), params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
