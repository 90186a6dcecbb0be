"""manage.py workshop create --instructor U --title T --labs a,b [--json] / list / export ID --format csv|json / purge."""
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from kmslab.workshops import cohort, controls, export
from kmslab.workshops.models import Workshop


def _when(text):
    if text is None:
        return None
    parsed = parse_datetime(text)
    if parsed is None:
        raise CommandError(f"not a time: {text!r} (ISO 8601, e.g. 2026-12-03T09:00:00Z)")
    return parsed


class Command(BaseCommand):
    help = "Workshops: create one, list them, export a workshop's progress, delete those past their retention."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new workshop with its join code")
        create.add_argument("--instructor", required=True)
        create.add_argument("--title", required=True)
        create.add_argument("--labs", required=True, help="lab slugs in order, comma-separated")
        create.add_argument("--opens", help="ISO 8601 time (default: now)")
        create.add_argument("--closes", help="ISO 8601 time (default: when the instructor closes it)")
        create.add_argument("--max-learners", type=int)
        create.add_argument("--json", action="store_true", dest="as_json")
        create.add_argument("--base-url", default=settings.KMSLAB_BASE_URL)
        listing = actions.add_parser("list", help="every workshop")
        listing.add_argument("--json", action="store_true", dest="as_json")
        exporting = actions.add_parser("export", help="progress per learner, lab and objective")
        exporting.add_argument("id", type=int)
        exporting.add_argument("--format", choices=["csv", "json"], default="csv", dest="fmt")
        actions.add_parser("purge", help="delete the workshops (and runs) whose retention after closing has passed")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_create(self, instructor, title, labs, opens=None, closes=None, max_learners=None, as_json=False,
                  base_url=None, **_):
        user = get_user_model().objects.filter(username=instructor).first()
        if user is None:
            raise CommandError(f"no instructor {instructor!r}; `manage.py instructor create {instructor}` makes one")
        slugs = [s.strip() for s in labs.split(",") if s.strip()]
        missing = cohort.unknown_labs(slugs)
        if missing or not slugs:
            raise CommandError(f"no lab {', '.join(missing)}; `manage.py labs list` shows them" if missing
                               else "--labs names no lab")
        if max_learners is not None and max_learners < 1:
            raise CommandError("--max-learners must be at least 1")
        workshop = cohort.create(user, title, slugs, _when(opens), _when(closes), max_learners)
        controls.record(workshop, user, "create", f"labs {', '.join(workshop.labs)} (manage.py)")
        base = base_url.rstrip("/")
        shown = {"id": workshop.id, "join_code": workshop.join_code, "join_url": base + reverse("workshops:join"),
                 "dashboard_url": base + reverse("workshops:dashboard", args=[workshop.id])}
        if as_json:
            return self.stdout.write(json.dumps(shown))
        self.stdout.write(f"workshop {workshop.id}: {title}\n  join code: {workshop.join_code} at {shown['join_url']}\n"
                          f"  dashboard: {shown['dashboard_url']}")

    def do_list(self, as_json=False, **_):
        shown = [{"id": w.id, "title": w.title, "instructor": w.instructor.get_username(), "join_code": w.join_code,
                  "labs": w.labs, "closed": w.is_closed, "learners": w.learners.count()}
                 for w in Workshop.objects.select_related("instructor")]
        if as_json:
            return self.stdout.write(json.dumps(shown))
        for w in shown:
            self.stdout.write(f"{w['id']:5} {w['join_code']:12} {'closed' if w['closed'] else 'open':7} "
                              f"{w['learners']:4} learners  {w['title']} ({w['instructor']})")

    def do_export(self, id, fmt, **_):
        workshop = Workshop.objects.filter(pk=id).first()
        if workshop is None:
            raise CommandError(f"no workshop {id}")
        self.stdout.write(export.as_csv(workshop) if fmt == "csv" else export.as_json(workshop), ending="")

    def do_purge(self, **_):
        for title in cohort.purge():
            self.stdout.write(f"deleted {title}")
