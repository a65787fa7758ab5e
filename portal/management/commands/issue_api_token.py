"""Print the API token of a user (created on first use), for staff integrations and the
simulator's live mode: ``python manage.py issue_api_token --username citizen``."""

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from portal.models import User


class Command(BaseCommand):
    help = "Print a REST API token for a user (created if the user has none)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing token with a new one."
        )

    def handle(self, *args, username, rotate=False, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}", returncode=2)
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive", returncode=2)
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
