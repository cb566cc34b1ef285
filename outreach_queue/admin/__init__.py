"""The queue app's admin: the outreach queue itself (rows.py), and the support panels it adds to the
customer and enrollment pages of the apps below it (support.py)."""

from outreach_queue.admin import rows, support  # noqa: F401  (registration)
