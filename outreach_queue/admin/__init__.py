"""The queue app's admin: the outreach queue itself (rows.py), the support panels it adds to the
customer and enrollment pages of the apps below it (support.py), and a sequence's performance page with
its charts (performance.py)."""

from outreach_queue.admin import performance, rows, support  # noqa: F401  (registration)
