"""A fresh company for one load run: a member with a token, customers with open invoices, a sender
and an active sequence whose first reminder and call are due at once (so queue reads find ready rows)."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

STEPS = [  # (type, offset_days, offset_time): two due at once, one three days out
    ("reminder", 0, datetime.time(0, 0)),
    ("call", 0, datetime.time(0, 0)),
    ("reminder", 3, datetime.time(9, 0)),
]


@dataclass
class World:
    company_id: str
    sequence_id: str
    token: str
    customer_ids: list[str]
    steps: int


def seed_world(*, customers: int) -> World:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from connections.models import EmailConnection
    from daylit.models import Company, Customer, Invoice, Member
    from daylit.services import api_token_issue
    from sequences.models import Sequence, SequenceStep

    run = uuid.uuid4().hex[:8]
    with transaction.atomic():
        company = Company.objects.create(name=f"Load run {run}")
        user = get_user_model().objects.create(username=f"load-{run}", email=f"load-{run}@example.com")
        member = Member.objects.create(company=company, user=user, role=Member.Role.ADMIN)
        sender = EmailConnection.objects.create(
            company=company, member=member, email=f"ar-{run}@seller.example", grant_id=f"grant-load-{run}"
        )
        sequence = Sequence.objects.create(
            company=company, name="Load reminders", status="active", timezone="UTC", sender_connection=sender
        )
        SequenceStep.objects.bulk_create(
            SequenceStep(
                sequence=sequence,
                step_type=kind,
                label=f"{kind} day {days}",
                offset_days=days,
                offset_time=at,
                subject_template="Invoice {{ invoice.number }} is due",
                body_plain_template="Hello {{ customer.name }}, {{ invoice.amount_due }} is due.",
            )
            for kind, days, at in STEPS
        )
        people = Customer.objects.bulk_create(
            Customer(company=company, name=f"Customer {i}", email=f"ap{i}-{run}@customer.example")
            for i in range(customers)
        )
        Invoice.objects.bulk_create(
            Invoice(
                company=company,
                customer=c,
                number=f"INV-{i:06d}",
                currency="USD",
                amount_due=Decimal("250.00"),
                issue_date=datetime.date(2026, 10, 1),
                due_date=datetime.date(2026, 10, 31),
            )
            for i, c in enumerate(people)
        )
    _, key = api_token_issue(user=user)
    return World(str(company.id), str(sequence.id), key, [str(c.id) for c in people], len(STEPS))
