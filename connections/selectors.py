"""Reads of the connections app."""

from uuid import UUID

from django.db.models import QuerySet

from connections.models import EmailConnection
from daylit.errors import NotFound
from daylit.models import Company


def email_connection_list(*, company: Company) -> QuerySet[EmailConnection]:
    return EmailConnection.objects.filter(company=company).order_by("-created_at", "id")


def email_connection_get(*, company: Company, connection_id: UUID) -> EmailConnection:
    """A connection of another company does not exist (404)."""
    connection = EmailConnection.objects.filter(company=company, pk=connection_id).first()
    if connection is None:
        raise NotFound("Email connection not found.")
    return connection
