"""A ready row's subject is at most SUBJECT_MAX_LENGTH characters (its lowercased copy lives in the
ready tab's covering index, queue.0005): every writer keeps to it, and the database refuses more."""

import pytest
from django.db import IntegrityError, transaction

from enrollments.models import READY_SUBJECT_MAX_LENGTH, ScheduledStep
from outreach_queue.services import queue_rows_promote
from sequences.models import SUBJECT_MAX_LENGTH
from tests.conftest import company_url
from tests.factories.enrollments import ScheduledStepFactory
from tests.factories.sequences import SequenceStepFactory
from tests.outreach_queue.helpers import Status, due_row, past, ready_row, sequence_with_sender

pytestmark = pytest.mark.django_db


def row_url(company, row, action=""):
    return company_url(company, f"sequences/queue/{row.pk}{action}")


def test_an_edit_may_reach_the_limit_and_not_pass_it(api, company, fake_nylas):
    row = ready_row(company)
    longest = "Ä" * (SUBJECT_MAX_LENGTH - 4) + "Tail"
    response = api.patch(row_url(company, row), {"subject": longest + "!"}, format="json")
    assert response.status_code == 400
    assert str(SUBJECT_MAX_LENGTH) in response.json()["subject"][0], response.json()

    response = api.patch(row_url(company, row), {"subject": longest}, format="json")
    assert response.status_code == 200 and response.json()["subject"] == longest
    found = api.get(company_url(company, "sequences/queue"), {"search": "äätAIL"}).json()
    assert [r["id"] for r in found["data"]] == [str(row.pk)]


def test_a_template_that_renders_a_longer_subject_fails_its_row_with_the_reason(company):
    row = due_row(company)
    row.step.subject_template = "{{ 'x' * 601 }}"
    row.step.save()
    queue_rows_promote(company=company)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert f"601 characters; at most {SUBJECT_MAX_LENGTH}" in row.error
    assert row.subject == ""


def test_the_database_refuses_a_longer_subject_on_a_ready_row_only(company):
    row = ready_row(company)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledStep.objects.filter(pk=row.pk).update(subject="x" * (READY_SUBJECT_MAX_LENGTH + 1))
    ScheduledStep.objects.filter(pk=row.pk).update(status=Status.SENT, subject="x" * 2_000)
    assert ScheduledStep.objects.get(pk=row.pk).subject_lower == "x" * 2_000


def test_a_follow_up_to_a_subject_at_the_limit_can_go_back_to_ready(api, company, fake_nylas):
    sequence = sequence_with_sender(company, send_followups_in_thread=True)
    first = ready_row(company, sequence=sequence)
    subject = "S" * SUBJECT_MAX_LENGTH
    followup = ScheduledStepFactory(
        enrollment=first.enrollment, step=SequenceStepFactory(sequence=sequence), scheduled_for=past()
    )
    queue_rows_promote(company=company)
    assert api.patch(row_url(company, first), {"subject": subject}, format="json").status_code == 200
    assert api.post(row_url(company, first, "/send"), {}, format="json").json()["status"] == "sent"

    fake_nylas.fail_next(500)  # retryable: the row returns to ready with the subject it was sent with
    response = api.post(row_url(company, followup, "/send"), {}, format="json")
    assert response.status_code == 502, response.json()
    followup.refresh_from_db()
    assert followup.status == Status.READY and followup.subject == f"Re: {subject}"
    assert api.post(row_url(company, followup, "/send"), {}, format="json").json()["status"] == "sent"
    assert fake_nylas.deliveries[-1]["subject"] == f"Re: {subject}"


def test_a_follow_up_to_a_longer_subject_sent_before_the_bound_is_cut_to_fit(api, company, fake_nylas):
    sequence = sequence_with_sender(company, send_followups_in_thread=True)
    first = ready_row(company, sequence=sequence)
    followup = ScheduledStepFactory(
        enrollment=first.enrollment, step=SequenceStepFactory(sequence=sequence), scheduled_for=past()
    )
    queue_rows_promote(company=company)
    assert api.post(row_url(company, first, "/send"), {}, format="json").json()["status"] == "sent"
    ScheduledStep.objects.filter(pk=first.pk).update(subject="L" * 700)  # sent rows are not bound

    fake_nylas.fail_next(500)
    response = api.post(row_url(company, followup, "/send"), {}, format="json")
    assert response.status_code == 502, response.json()
    followup.refresh_from_db()
    assert followup.status == Status.READY
    assert followup.subject == ("Re: " + "L" * 700)[:READY_SUBJECT_MAX_LENGTH]
