import uuid

from django.core.management.base import BaseCommand, CommandError

from daylit.models import Member
from daylit.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a member's user and print the key (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("--member", required=True, help="Member UUID")
        parser.add_argument("--description", default="", help="What the token is for")

    def handle(self, *args, **options):
        try:
            member_id = uuid.UUID(options["member"])
        except ValueError:
            raise CommandError(f"--member must be a UUID, got {options['member']!r}.") from None
        member = Member.objects.select_related("user").filter(pk=member_id).first()
        if member is None:
            raise CommandError(f"No member with id {member_id}.")
        _, key = api_token_issue(user=member.user, description=options["description"])
        self.stdout.write(key)
