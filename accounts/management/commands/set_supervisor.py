"""Mark a radiologist as supervisor (may amend colleagues' signed reports), or take the mark away."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User


class Command(BaseCommand):
    help = "Mark a radiologist as supervisor: they may amend reports other radiologists signed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--off", action="store_true", help="remove the supervisor mark")

    def handle(self, *args, username: str, off: bool, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if user.role != Role.RADIOLOGIST and not off:
            raise CommandError(f"{username} is not a radiologist")
        user.is_supervisor = not off
        user.save(update_fields=["is_supervisor"])
        self.stdout.write(f"{username}: supervisor {'no' if off else 'yes'}")
