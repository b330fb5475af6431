"""Create (or reset) one demo account per role and print how to log in."""

from django.core.management.base import BaseCommand

from accounts.models import Role, User

DEMO_USERS = [
    ("radiologist", Role.RADIOLOGIST, "Rosa", "Reader"),
    ("manager", Role.MANAGER, "Max", "Manager"),
    ("clinician", Role.CLINICIAN, "Clara", "Clinician"),
]


class Command(BaseCommand):
    help = "Create demo accounts (radiologist, manager, clinician). Demo only."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-password-1")

    def handle(self, *args, password: str, **options):
        for username, role, first, last in DEMO_USERS:
            user, _ = User.objects.update_or_create(
                username=username, defaults={"role": role, "first_name": first, "last_name": last}
            )
            user.set_password(password)
            user.save()
            self.stdout.write(f"  {role:<12} login: {username:<12} password: {password}")
