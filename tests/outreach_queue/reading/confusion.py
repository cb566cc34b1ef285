"""The corpus result as a table: in the assertion messages and the run's terminal summary."""

from collections import Counter


def confusion_table(results) -> str:
    """`results`: (message, predicted_kind, predicted_return_date) for every corpus message."""
    cells = Counter((message.kind, predicted) for message, predicted, _ in results)
    by_group = Counter((message.group, message.kind, predicted) for message, predicted, _ in results)
    dated = [(m, day) for m, predicted, day in results if m.kind == "auto" and m.states_date]
    dates_right = sum(1 for m, day in dated if day == m.return_date)
    lines = [
        f"Reply-reading corpus: {len(results)} messages, rules only",
        "",
        f"{'actual / read as':<18}{'auto':>8}{'person':>8}",
        *(f"{kind:<18}{cells[(kind, 'auto')]:>8}{cells[(kind, 'person')]:>8}" for kind in ("auto", "person")),
        "",
        f"{'group':<18}{'kind':<8}{'auto':>6}{'person':>8}",
    ]
    for group, kind in sorted({(m.group, m.kind) for m, _, _ in results}):
        lines.append(
            f"{group:<18}{kind:<8}{by_group[(group, kind, 'auto')]:>6}{by_group[(group, kind, 'person')]:>8}"
        )
    lines += ["", f"return dates right: {dates_right}/{len(dated)} of the auto-replies that state one"]
    lines += [
        f"  wrong: {m.id}: expected {m.return_date}, read {day}" for m, day in dated if day != m.return_date
    ]
    lines += [f"  missed: {m.id} ({m.kind} read as {p})" for m, p, _ in results if p != m.kind]
    return "\n".join(lines)
