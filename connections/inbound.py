"""Reading an inbound message through the Nylas SDK when its webhook did not carry all of it.

`message.created.truncated` (a message over 1 MB) comes without its body, and no notification carries
the headers the auto-reply rules read first (RFC 3834 `Auto-Submitted` and its kin). So a reply is
fetched once, with `fields=include_headers`. A failed fetch never loses the reply: it goes on with what
the notification held, and the failure is logged.
"""

import logging
from dataclasses import dataclass, field

from nylas.models.errors import NylasApiError, NylasSdkTimeoutError

from connections.nylas_client import nylas_client, nylas_configured

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundMessage:
    body: str = ""  # HTML or plain, as Nylas holds it
    headers: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""
    from_email: str = ""


def inbound_message_fetch(*, grant_id: str, message_id: str) -> InboundMessage | None:
    """The message with its headers, or None when Nylas is not configured or the call fails."""
    if not (nylas_configured() and grant_id and message_id):
        return None
    try:
        found = nylas_client().messages.find(
            identifier=grant_id, message_id=message_id, query_params={"fields": "include_headers"}
        )
    except (NylasApiError, NylasSdkTimeoutError, OSError, ValueError) as exc:
        logger.warning("could not read message %s of grant %s: %s", message_id, grant_id, exc)
        return None
    message = found.data
    headers = [
        (str(getattr(h, "name", "") or ""), str(getattr(h, "value", "") or ""))
        for h in (getattr(message, "headers", None) or [])
    ]
    senders = [
        getattr(p, "email", None) or (p.get("email") if isinstance(p, dict) else None)
        for p in (message.from_ or [])
    ]
    return InboundMessage(
        body=message.body or "",
        headers=headers,
        subject=message.subject or "",
        from_email=next((s for s in senders if s), ""),
    )
