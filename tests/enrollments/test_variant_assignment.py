"""Variant assignment at enrollment (docs/variants.md): the Python rule and the SQL rule agree, the
shares follow the weights, holdout rows are created cancelled with their events, bulk enroll stays a
fixed number of queries."""

import datetime
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daylit.models import Customer
from enrollments import services
from enrollments.models import Enrollment, ScheduledStep
from enrollments.variants import BUCKETS, bucket, bucket_sql, step_ranges, variant_for
from events.models import Event
from events.types import ENROLLMENT_COMPLETED, QUEUE_ROW_CANCELLED
from tests.conftest import company_url
from tests.factories.core import CompanyFactory, CustomerFactory
from tests.factories.sequences import SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db
Status = ScheduledStep.Status


def variant(key, weight):
    return {
        "key": key,
        "weight": weight,
        "subject_template": f"[{key}] Invoice {{{{ invoice.number }}}}",
        "body_plain_template": f"{key}: Hello {{{{ customer.name }}}}",
        "body_html_template": "",
    }


def experiment_sequence(company, *, variants, holdout_percent=0, **settings):
    """Active, a plain reminder on day 0, the experiment on day 3, a call on day 6."""
    sequence = SequenceFactory(company=company, status="active", **settings)
    SequenceStepFactory(sequence=sequence, offset_days=0, label="Day 0")
    experiment = SequenceStepFactory(
        sequence=sequence, offset_days=3, label="Day 3", variants=variants, holdout_percent=holdout_percent
    )
    SequenceStepFactory(sequence=sequence, offset_days=6, step_type="call", label="Day 6")
    return sequence, experiment


def ranges_of(step):
    return step_ranges(variants=step.variants, holdout_percent=step.holdout_percent)


# --- the rule ---------------------------------------------------------------------------------------


def test_ranges_cover_every_bucket_in_order():
    ranges = step_ranges(variants=[variant("a", 2), variant("b", 1)], holdout_percent=10)
    assert ranges == (("holdout", 0, 1_000), ("a", 1_000, 7_000), ("b", 7_000, 10_000))
    assert step_ranges(variants=[], holdout_percent=0) == ()
    assert step_ranges(variants=[], holdout_percent=50) == (("holdout", 0, 5_000),)
    odd = step_ranges(variants=[variant("a", 1), variant("b", 1), variant("c", 1)], holdout_percent=0)
    assert odd == (("a", 0, 3_333), ("b", 3_333, 6_666), ("c", 6_666, 10_000))


def test_assignment_is_deterministic_and_follows_the_documented_formula():
    import hashlib

    enrollment_id = uuid.UUID("0b6f3a52-2d0e-4c57-9f7c-2c1d5b8e6a11")
    step_id = uuid.UUID("9e1a7c44-5b3f-4d2a-8e6b-7f0c1d2e3a4b")
    text = "0b6f3a52-2d0e-4c57-9f7c-2c1d5b8e6a119e1a7c44-5b3f-4d2a-8e6b-7f0c1d2e3a4b"
    expected = int(hashlib.md5(text.encode()).hexdigest()[:8], 16) % 10_000
    assert bucket(enrollment_id, step_id) == expected
    ranges = step_ranges(variants=[variant("a", 1), variant("b", 1)], holdout_percent=0)
    key = variant_for(enrollment_id=enrollment_id, step_id=step_id, ranges=ranges)
    assert key == ("a" if expected < 5_000 else "b")
    assert all(
        variant_for(enrollment_id=enrollment_id, step_id=step_id, ranges=ranges) == key for _ in range(5)
    )
    assert variant_for(enrollment_id=enrollment_id, step_id=step_id, ranges=()) is None


def _sql_buckets(pairs):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {bucket_sql(enrollment_id='t.e', step_id='t.s')} "  # noqa: S608 (our expression)
            "FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS t(e, s, n) ORDER BY t.n",
            [[e for e, _ in pairs], [s for _, s in pairs]],
        )
        return [row[0] for row in cursor.fetchall()]


def test_python_and_sql_buckets_agree_on_many_random_ids():
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(5_000)]
    # Ids whose hash starts with a high bit set would come out negative through a signed cast.
    pairs += [(uuid.UUID(int=0), uuid.UUID(int=0)), (uuid.UUID(int=2**128 - 1), uuid.UUID(int=2**128 - 1))]
    assert _sql_buckets(pairs) == [bucket(e, s) for e, s in pairs]
    assert all(0 <= b < BUCKETS for b in _sql_buckets(pairs))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.uuids(), st.uuids()), min_size=1, max_size=20))
def test_python_and_sql_buckets_agree_hypothesis(db, pairs):
    assert _sql_buckets(pairs) == [bucket(e, s) for e, s in pairs]


# --- single enroll ----------------------------------------------------------------------------------


def enroll(api, company, sequence, customer, **body):
    body = {"sequence_id": str(sequence.id), "customer_id": str(customer.id), **body}
    return api.post(company_url(company, "sequence-enrollments"), body, format="json")


def test_single_enroll_assigns_by_the_rule_and_holds_out_as_cancelled(api, company):
    sequence, step = experiment_sequence(
        company, variants=[variant("a", 1), variant("b", 1)], holdout_percent=50
    )
    seen = Counter()
    for _ in range(12):
        Event.objects.all().delete()
        response = enroll(api, company, sequence, CustomerFactory(company=company), start_date="2030-01-01")
        assert response.status_code == 201, response.json()
        enrollment_id = uuid.UUID(response.json()["enrollment"]["id"])
        rows = {row.step_id: row for row in ScheduledStep.objects.filter(enrollment_id=enrollment_id)}
        row = rows.pop(step.pk)
        assert all(other.variant_key is None and other.status == Status.SCHEDULED for other in rows.values())
        expected = variant_for(enrollment_id=enrollment_id, step_id=step.pk, ranges=ranges_of(step))
        assert row.variant_key == expected
        seen[expected] += 1
        cancelled = set(Event.objects.filter(type=QUEUE_ROW_CANCELLED).values_list("subject_id", flat=True))
        if expected == "holdout":
            assert (row.status, row.error) == (Status.CANCELLED, "holdout")
            assert row.processed_at is not None
            assert cancelled == {row.pk}
        else:
            assert (row.status, row.error, row.processed_at) == (Status.SCHEDULED, "", None)
            assert cancelled == set()
    assert set(seen) <= {"holdout", "a", "b"}


def test_a_holdout_only_step_leaves_the_others_without_a_key(company):
    sequence, step = experiment_sequence(company, variants=[], holdout_percent=50)
    keys = Counter()
    for _ in range(30):
        enrollment, _ = services.enrollment_create(
            sequence=sequence, customer=CustomerFactory(company=company), start_date=datetime.date(2030, 1, 1)
        )
        row = ScheduledStep.objects.get(enrollment=enrollment, step=step)
        keys[row.variant_key] += 1
        assert row.status == (Status.CANCELLED if row.variant_key == "holdout" else Status.SCHEDULED)
    assert set(keys) <= {"holdout", None}
    assert keys["holdout"] and keys[None]  # 30 fair coins: all one side has odds 2 in a billion


def test_a_holdout_row_also_past_at_enrollment_says_holdout(company):
    """catch_up latest would skip it too; the experiment's reason is the one recorded."""
    sequence, step = experiment_sequence(
        company, variants=[], holdout_percent=50, catch_up="latest", timezone="UTC"
    )
    errors = set()
    for _ in range(20):
        enrollment, _ = services.enrollment_create(
            sequence=sequence,
            customer=CustomerFactory(company=company),
            start_date=timezone.localdate() - datetime.timedelta(days=30),
        )
        row = ScheduledStep.objects.get(enrollment=enrollment, step=step)
        assert row.status == Status.CANCELLED  # day 3 is past and day 6 later: skipped or held out
        errors.add((row.variant_key, row.error))
    assert errors <= {("holdout", "holdout"), (None, "skipped: already past when enrolled")}
    assert ("holdout", "holdout") in errors


# --- bulk enroll -------------------------------------------------------------------------------------


def bulk_customers(company, count):
    return Customer.objects.bulk_create(
        [Customer(company=company, name=f"Customer {n}", email=f"c{n}@x.example") for n in range(count)]
    )


def test_bulk_assigns_as_python_would_and_follows_the_weights(company):
    sequence, step = experiment_sequence(
        company, variants=[variant("a", 70), variant("b", 30)], holdout_percent=10
    )
    customers = bulk_customers(company, 10_000)
    Event.objects.all().delete()
    result = services.enrollments_bulk_create(
        sequence=sequence, customer_ids=[c.pk for c in customers], start_date=datetime.date(2030, 1, 1)
    )
    assert result.enrolled_count == 10_000

    rows = list(
        ScheduledStep.objects.filter(step=step).values_list(
            "enrollment_id", "variant_key", "status", "error", "processed_at"
        )
    )
    assert len(rows) == 10_000
    ranges = ranges_of(step)
    mismatched = [
        (enrollment_id, key)
        for enrollment_id, key, *_ in rows
        if key != variant_for(enrollment_id=enrollment_id, step_id=step.pk, ranges=ranges)
    ]
    assert mismatched == []
    shares = Counter(key for _, key, *_ in rows)
    # 10% held out, the other 90% split 70:30. Binomial sd is under 0.5 points: 3 points is a loose
    # bound that a rule ignoring weights (or the holdout) still fails.
    for key, expected in {"holdout": 0.10, "a": 0.63, "b": 0.27}.items():
        assert abs(shares[key] / 10_000 - expected) < 0.03, shares
    for _, key, status, error, processed_at in rows:
        if key == "holdout":
            assert (status, error) == (Status.CANCELLED, "holdout") and processed_at is not None
        else:
            assert (status, error, processed_at) == (Status.SCHEDULED, "", None)
    held_out = set(
        ScheduledStep.objects.filter(step=step, variant_key="holdout").values_list("pk", flat=True)
    )
    events = set(Event.objects.filter(type=QUEUE_ROW_CANCELLED).values_list("subject_id", flat=True))
    assert events == held_out
    # The steps without an experiment: no key, planned as always.
    others = ScheduledStep.objects.filter(sequence=sequence).exclude(step=step)
    assert others.count() == 20_000 and not others.exclude(variant_key=None).exists()
    assert not others.exclude(status=Status.SCHEDULED).exists()


def test_bulk_with_catch_up_latest_and_a_holdout(company):
    sequence, step = experiment_sequence(
        company,
        variants=[variant("a", 1), variant("b", 1)],
        holdout_percent=30,
        catch_up="latest",
        timezone="UTC",
    )
    customers = bulk_customers(company, 300)
    Event.objects.all().delete()
    services.enrollments_bulk_create(
        sequence=sequence,
        customer_ids=[c.pk for c in customers],
        start_date=timezone.localdate() - datetime.timedelta(days=4),  # day 0 past and skipped, day 3 due
    )
    day0 = ScheduledStep.objects.filter(sequence=sequence, step__offset_days=0)
    assert set(day0.values_list("status", "error", "variant_key")) == {
        (Status.CANCELLED, "skipped: already past when enrolled", None)
    }
    rows = ScheduledStep.objects.filter(step=step)
    assert set(rows.filter(variant_key="holdout").values_list("status", "error")) == {
        (Status.CANCELLED, "holdout")
    }
    assert set(rows.exclude(variant_key="holdout").values_list("status", "variant_key")) == {
        (Status.SCHEDULED, "a"),
        (Status.SCHEDULED, "b"),
    }
    cancelled = set(day0.values_list("pk", flat=True)) | set(
        rows.filter(variant_key="holdout").values_list("pk", flat=True)
    )
    assert (
        set(Event.objects.filter(type=QUEUE_ROW_CANCELLED).values_list("subject_id", flat=True)) == cancelled
    )


def _bulk_queries(company, count):
    from django.test.utils import CaptureQueriesContext

    sequence, _ = experiment_sequence(company, variants=[variant("a", 1), variant("b", 3)], holdout_percent=5)
    SequenceStepFactory(
        sequence=sequence, offset_days=9, variants=[variant("x", 1), variant("y", 1), variant("z", 1)]
    )
    customers = bulk_customers(company, count)
    already = customers[:100]
    services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.pk for c in already])
    with CaptureQueriesContext(connection) as queries:
        result = services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.pk for c in customers])
    assert (result.enrolled_count, result.updated_count) == (count - 100, 100)
    current = ScheduledStep.objects.filter(sequence=sequence, enrollment__status="active")
    assert current.count() == 4 * count
    assert set(current.exclude(variant_key=None).values_list("variant_key", flat=True)) == {
        "holdout",
        "a",
        "b",
        "x",
        "y",
        "z",
    }
    return len(queries)


def test_bulk_with_variants_is_still_a_handful_of_queries(company):
    """The assignment is inside the rows' INSERT ... SELECT: no query per customer or per variant. As
    tests/enrollments/test_services.py counts without variants (13 with the savepoint), plus the one
    `queue_row.cancelled` INSERT ... SELECT for the held-out rows, and the few statements that finish
    the enrollments whose every row was held out (their ids, the lock, the UPDATE, its event)."""
    small = _bulk_queries(company, 1_000)
    large = _bulk_queries(CompanyFactory(), 10_000)
    assert small == large <= 19


def test_preview_is_unchanged_by_an_experiment(api, company):
    """The preview has no enrollment id to hash: it shows the planned rows, none skipped for a holdout."""
    sequence, step = experiment_sequence(
        company, variants=[variant("a", 1), variant("b", 1)], holdout_percent=50
    )
    customer = CustomerFactory(company=company)
    response = api.get(
        company_url(company, f"sequences/{sequence.id}/preview"), {"customer_id": str(customer.id)}
    )
    assert response.status_code == 200, response.json()
    rows = response.json()["data"]
    assert len(rows) == 3 and not any(row["skipped"] for row in rows)
    assert "variant_key" not in rows[1]


# --- an enrollment whose every row is held out ------------------------------------------------------


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "bulk"])
def test_an_enrollment_whose_only_row_is_held_out_is_finished_at_once(company, bulk):
    sequence = SequenceFactory(company=company, status="active")
    step = SequenceStepFactory(sequence=sequence, variants=[], holdout_percent=50)
    customers = bulk_customers(company, 40)
    if bulk:
        services.enrollments_bulk_create(sequence=sequence, customer_ids=[c.pk for c in customers])
    else:
        for customer in customers:
            services.enrollment_create(sequence=sequence, customer=customer)
    held = set(
        ScheduledStep.objects.filter(step=step, variant_key="holdout").values_list("enrollment_id", flat=True)
    )
    assert 0 < len(held) < 40
    states = dict(Enrollment.objects.filter(sequence=sequence).values_list("pk", "status"))
    # Nothing of theirs will ever move again: finished, so the customer can be enrolled again.
    assert {states[pk] for pk in held} == {"completed"}
    assert set(Enrollment.objects.filter(pk__in=held).values_list("stop_reason", flat=True)) == {"finished"}
    assert {status for pk, status in states.items() if pk not in held} == {"active"}
    assert Event.objects.filter(type=ENROLLMENT_COMPLETED, subject_id__in=held).count() == len(held)
