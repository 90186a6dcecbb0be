"""manage.py instructor create USERNAME [--password P] [--superuser] / list."""
import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Instructors: the accounts that log in at /login/ to run workshops."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new instructor (prompts for the password if none is given)")
        create.add_argument("username")
        create.add_argument("--password")
        create.add_argument("--superuser", action="store_true", help="sees and controls every workshop")
        actions.add_parser("list", help="every instructor")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_create(self, username, password=None, superuser=False, **_):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"an instructor {username!r} exists already")
        user = User(username=username, is_staff=superuser, is_superuser=superuser)
        if password is None:
            password = self._prompt()
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user.set_password(password)
        user.save()
        self.stdout.write(f"instructor {username} created; log in at /login/")

    def _prompt(self):
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("no password given: pass --password or type one at the prompt") from None
        if password != again:
            raise CommandError("the passwords differ")
        return password

    def do_list(self, **_):
        for user in get_user_model().objects.order_by("username"):
            self.stdout.write(f"{user.username}{' (superuser)' if user.is_superuser else ''}")
