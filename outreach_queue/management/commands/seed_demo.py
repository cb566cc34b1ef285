"""Create the demo company once, then issue a fresh API token on every run.

It lives in the top app because demo data spans every app below it (core, connections, sequences).

Idempotent: every object is found by a natural key (names, invoice numbers, a fixed grant id), so a
second run adds no rows and prints the same ids. Tokens are the exception by design: each run issues
a new one and earlier ones keep working.
"""

import datetime
import json
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from connections.models import EmailConnection
from daylit.models import Company, Customer, Invoice, Member
from daylit.services import api_token_issue
from sequences.models import Sequence, SequenceStep

DEMO_COMPANY = "Daylit Demo Co"
DEMO_USERNAME = "demo"
DEMO_GRANT_ID = "demo-outbox-grant"
DEMO_SEQUENCE = "Demo: friendly reminders"
CUSTOMERS = [
    # name, email, invoice number, amount, days until due (negative: overdue)
    ("Acme Corp", "ap@acme.example", "INV-1001", Decimal("1250.00"), -12),
    ("Globex Ltd", "billing@globex.example", "INV-1002", Decimal("480.50"), 5),
    ("Initech", "accounts@initech.example", "INV-1003", Decimal("9900.00"), 20),
]
STEPS = [
    # label, offset_days, offset_time, subject, body
    (
        "Gentle reminder",
        0,
        datetime.time(9, 0),
        "Invoice {{ invoice.number }} from {{ company.name }}",
        "Hello {{ customer.name }},\n\nInvoice {{ invoice.number }} for {{ invoice.amount_due }} "
        "{{ invoice.currency }} is due on {{ invoice.due_date }}.\n\nThanks,\n{{ sender.name }}",
    ),
    (
        "Follow-up",
        7,
        datetime.time(9, 0),
        "Following up on invoice {{ invoice.number }}",
        "Hello {{ customer.name }},\n\nA quick follow-up: {{ total_due }} is still open.\n\n"
        "{{ sender.name }}",
    ),
]


class Command(BaseCommand):
    help = "Create demo data (idempotently) and print a fresh API token."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, **options):
        with transaction.atomic():
            result = self._seed()
        _, key = api_token_issue(user=result.pop("user"), description="seed_demo")
        result["token"] = key
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            for name, value in result.items():
                self.stdout.write(f"{name}: {value}")

    def _seed(self) -> dict:
        company, _ = Company.objects.get_or_create(name=DEMO_COMPANY)
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"email": "demo@daylit.example", "first_name": "Dana", "last_name": "Demo"},
        )
        member, _ = Member.objects.get_or_create(
            company=company, user=user, defaults={"role": Member.Role.ADMIN}
        )
        connection, _ = EmailConnection.objects.get_or_create(
            grant_id=DEMO_GRANT_ID,
            defaults={
                "company": company,
                "member": member,
                "email": "ar@demo.daylit.example",
                "provider": "outbox",
            },
        )
        today = timezone.localdate()
        customer_ids = []
        for name, email, number, amount, due_in in CUSTOMERS:
            customer, _ = Customer.objects.get_or_create(
                company=company, name=name, defaults={"email": email, "ar_owner": member}
            )
            Invoice.objects.get_or_create(
                company=company,
                number=number,
                defaults={
                    "customer": customer,
                    "amount_due": amount,
                    "issue_date": today + datetime.timedelta(days=due_in - 30),
                    "due_date": today + datetime.timedelta(days=due_in),
                },
            )
            customer_ids.append(str(customer.id))
        sequence, _ = Sequence.objects.get_or_create(
            company=company,
            name=DEMO_SEQUENCE,
            defaults={
                "status": Sequence.Status.ACTIVE,
                "sender_connection": connection,
                "send_followups_in_thread": True,
            },
        )
        for label, days, at, subject, body in STEPS:
            SequenceStep.objects.get_or_create(
                sequence=sequence,
                label=label,
                defaults={
                    "offset_days": days,
                    "offset_time": at,
                    "subject_template": subject,
                    "body_plain_template": body,
                },
            )
        return {
            "company_id": str(company.id),
            "member_id": str(member.id),
            "customer_ids": customer_ids,
            "email_connection_id": str(connection.id),
            "sequence_id": str(sequence.id),
            "user": user,
        }
