"""After the load: the database and the fake Nylas log must agree. Each check returns its failures."""


def consistency_failures(
    *, company_id: str, steps: int, deliveries: list[dict], requests: list[dict]
) -> list[str]:
    from django.db.models import Count, Q

    from enrollments.models import Enrollment, ScheduledStep

    failures = []
    enrollments = Enrollment.objects.filter(company_id=company_id)
    short = enrollments.annotate(n=Count("scheduled_steps")).exclude(n=steps).count()
    if short:
        failures.append(f"{short} enrollments do not have their {steps} rows")
    doubles = (
        enrollments.filter(status=Enrollment.Status.ACTIVE)
        .values("sequence_id", "customer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if doubles:
        failures.append(f"{doubles} customers have two active enrollments in one sequence")

    rows = ScheduledStep.objects.filter(company_id=company_id)
    sent = list(rows.filter(status=ScheduledStep.Status.SENT).values_list("provider_message_id", flat=True))
    delivered = [d["message_id"] for d in deliveries]
    if len(delivered) != len(set(delivered)):
        failures.append("the fake Nylas delivered a message id twice")
    if len(sent) != len(set(sent)):
        failures.append("two sent rows share a provider message id")
    if sorted(sent) != sorted(delivered):
        failures.append(f"{len(sent)} sent rows but {len(delivered)} deliveries at the fake Nylas")
    keys = [r["key"] for r in requests]
    if len(set(keys)) != len(delivered):
        failures.append(f"{len(set(keys))} idempotency keys used but {len(delivered)} deliveries")
    stuck = rows.filter(status=ScheduledStep.Status.SENDING).count()
    if stuck:
        failures.append(f"{stuck} rows left in sending")
    leftover = rows.filter(~Q(error=""), status=ScheduledStep.Status.FAILED).count()
    if leftover:
        failures.append(f"{leftover} rows failed")
    return failures


def counts(*, company_id: str) -> dict[str, int]:
    from django.db.models import Count

    from enrollments.models import Enrollment, ScheduledStep

    by_status = dict(
        ScheduledStep.objects.filter(company_id=company_id).values_list("status").annotate(n=Count("id"))
    )
    return {
        "enrollments": Enrollment.objects.filter(company_id=company_id).count(),
        **{f"rows {status}": n for status, n in sorted(by_status.items())},
    }
