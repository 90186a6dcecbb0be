"""manage.py labs list / start SLUG / status SANDBOX / validate."""
import json
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kmslab.labs import catalog, runs, trial
from kmslab.labs.models import LabRun
from kmslab.sandboxes.management.commands.sandbox import console_url


class Command(BaseCommand):
    help = "The lab catalogue: list labs, start a run, show a run's objectives, check every lab file."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="every lab")
        listing.add_argument("--json", action="store_true", dest="as_json")
        start = actions.add_parser("start", help="a new run of a lab, in a fresh sandbox")
        start.add_argument("slug")
        start.add_argument("--json", action="store_true", dest="as_json")
        start.add_argument("--base-url", default=settings.KMSLAB_BASE_URL, help="where the console is served")
        status = actions.add_parser("status", help="a run's objectives, checked now")
        status.add_argument("sandbox")
        status.add_argument("--json", action="store_true", dest="as_json")
        actions.add_parser("validate", help="check every lab file; a fresh run meets nothing, the solve script all "
                           "(in the core alone: no database needed)")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_list(self, as_json=False, **_):
        labs = [{"slug": lab.slug, "title": lab.title, "level": lab.level, "minutes": lab.minutes,
                 "objectives": [{"id": o.id, "title": o.title} for o in lab.objectives]}
                for lab in catalog.load().values()]
        if as_json:
            return self.stdout.write(json.dumps(labs))
        for lab in labs:
            self.stdout.write(f"{lab['slug']:36} {lab['level']:13} {lab['minutes']:3} min  {lab['title']}")

    def do_start(self, slug, as_json=False, base_url=None, **_):
        lab = catalog.get(slug)
        if lab is None:
            raise CommandError(f"no lab {slug!r}; `manage.py labs list` shows them")
        run, made, keys, files = runs.start(lab)
        shown = {"sandbox": str(run.sandbox_id), "lab": lab.slug, "console_url": console_url(run.sandbox_id, base_url),
                 "accounts": list(catalog.ACCOUNTS.values()), "principals": made, "keys": keys, "files": files}
        if as_json:
            return self.stdout.write(json.dumps(shown))
        self.stdout.write(f"lab run of {lab.slug} in sandbox {shown['sandbox']}\n  console: {shown['console_url']}")
        for p in made:
            self.stdout.write(f"  {p['name']:16} {p['access_key_id']} {p['secret_access_key']}")

    def do_status(self, sandbox, as_json=False, **_):
        run = LabRun.objects.filter(pk=sandbox).first() if _is_uuid(sandbox) else None
        if run is None:
            raise CommandError(f"no lab run in sandbox {sandbox}")
        shown = runs.status(run)
        if as_json:
            return self.stdout.write(json.dumps(shown))
        for o in shown["objectives"]:
            self.stdout.write(f"  [{'x' if o['done'] else ' '}] {o['id']}: {o['title']}")

    def do_validate(self, **_):
        failed = 0
        for lab in catalog.load().values():
            found = trial.problems(lab.slug)
            if found:
                failed += 1
                self.stdout.write(f"{lab.slug}: " + "; ".join(found))
            else:
                self.stdout.write(f"{lab.slug}: ok")
        if failed:
            raise CommandError(f"{failed} lab(s) failed validation")



def _is_uuid(text):
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False
