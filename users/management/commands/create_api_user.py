"""Create (or reuse) an API user and print a new token as the last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from users.models import Role
from users.services import api_user_create


class Command(BaseCommand):
    help = "Create a client's API user and print its token (the last line of output)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--client", required=True, help="Client name (created if missing).")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--role",
            choices=Role.values,
            help="The role of a new user (default user); given for an existing user, a new role.",
        )

    def handle(self, *args, client: str, email: str, role: str | None, **options) -> None:
        if not client.strip() or client != " ".join(client.split()):
            # "Acme " would quietly be a second client beside "Acme".
            raise CommandError(
                f"--client: {client!r} has leading, trailing or repeated spaces (or is empty)"
            )
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email: {email!r} is not an email address") from None
        user, key, change = api_user_create(client_name=client, email=email, role=role)
        what = change or f"role {user.role}, unchanged"
        self.stdout.write(f"user {user.email} (id {user.pk}) of client {client}: {what}")
        self.stdout.write(key)
