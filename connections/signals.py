"""Signals the connections app sends when Nylas tells us about mail; apps above it connect to them.

connections sits below sequences/enrollments/queue and never imports them, so the webhook task parses the
event, resolves the grant to one of our connections and sends one of these. They are sent inside the
transaction that marks the webhook delivery processed, so the receivers' writes commit (or roll back)
with it. A receiver returns a short outcome string (e.g. "stopped 1 enrollment"), recorded on the delivery.
"""

from django.dispatch import Signal

# Every signal also carries connection_id and company_id: the connection the grant resolved to.

# Someone other than the mailbox answered in a thread. kwargs: connection_id, company_id, grant_id,
# thread_id, message_id (the reply), root_message_id (our message it answers, "" when unknown), from_email,
# subject, text (Nylas's snippet; "" when the notification has none), body (the message's HTML or text,
# read through the SDK when the notification was truncated; "" when unknown), headers (a list of
# (name, value), read through the SDK; [] when unknown), received_at (a datetime, None when the
# notification gives no time).
# Also `read_ahead`: what the receivers of `reply_arriving` returned for this reply (a list; [] when the
# reply was not read ahead, e.g. a delivery processed some other way).
reply_received = Signal()

# The same reply, with the same kwargs, sent BEFORE the delivery's transaction (the one exception to the
# rule above): a receiver may do slow work there, such as a network call, and return its result, which
# comes back to it in reply_received's `read_ahead`. It must not write: the delivery may yet be skipped
# (processed meanwhile by another worker) or its transaction roll back.
reply_arriving = Signal()

# A non-delivery report for a message we sent. kwargs: connection_id, company_id, grant_id, message_ids
# (candidate ids of our sent message: the origin id and the notification's message_id), thread_id
# ("" when unknown), reason, bounced_addresses.
bounce_detected = Signal()
