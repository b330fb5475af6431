"""Link a clinician account to a referring-physician name (demo set-up and administration)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from clinician.services import LinkError, referrer_link


class Command(BaseCommand):
    help = "Link a clinician account to a referring physician name, e.g. link_referrer clinician 'Haddad^Samir^^Dr'"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("referring_name", help="Family^Given (DICOM PN) or 'Family, Given'")

    def handle(self, *args, username: str, referring_name: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            link = referrer_link(user=user, referring_name=referring_name, created_by=None)
        except LinkError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"  {username} sees studies referred by {link.referring_name_normalised}")
