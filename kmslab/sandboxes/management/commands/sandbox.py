"""manage.py sandbox create|list|reset|delete|clock|demo: the contract instructors' tools rely on.

`sandbox reset open` empties the open sandbox (kmslab/api/open_sandbox.py), as POST /kmslab-api/reset does.
"""
import json
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from kmslab.api import open_sandbox
from kmslab.cloud import principals as cloud_principals
from kmslab.cloud.clock import ClockLimitError, iso, parse_duration
from kmslab.console.learner import claim_path
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox

DEMO_NAME = "demo"


class Command(BaseCommand):
    help = "Create, list, reset, delete sandboxes and move their clocks."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)

        create = actions.add_parser("create", help="a sandbox with the default world")
        create.add_argument("--json", action="store_true", dest="as_json", help="print JSON for scripts")
        create.add_argument("--owner", default="", help="the learner's owner token")
        create.add_argument("--name", default="")
        create.add_argument("--base-url", default=settings.KMSLAB_BASE_URL, help="where the console is served")

        listing = actions.add_parser("list", help="every sandbox")
        listing.add_argument("--json", action="store_true", dest="as_json")

        reset = actions.add_parser("reset", help="a fresh default world, new credentials, an empty trail")
        reset.add_argument("id", help='a sandbox id, or "open": the shared sandbox of KMSLAB_ALLOW_ANY_CREDENTIALS')
        reset.add_argument("--json", action="store_true", dest="as_json")
        reset.add_argument("--base-url", default=settings.KMSLAB_BASE_URL)

        delete = actions.add_parser("delete", help="delete a sandbox and its trail")
        delete.add_argument("id")

        clock = actions.add_parser("clock", help="advance a sandbox's clock, running what falls due")
        clock.add_argument("id")
        clock.add_argument("--advance", required=True, metavar="DURATION", help="30d, 12h or 90m")

        demo = actions.add_parser("demo", help="create the demo sandbox if there is none, and say how to use it")
        demo.add_argument("--base-url", default=settings.KMSLAB_BASE_URL)

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_create(self, owner, name, base_url, as_json, **_):
        sandbox, principals = runner.create_sandbox(owner=owner, name=name)
        self._show_credentials(sandbox, principals, base_url, as_json)

    def do_list(self, as_json, **_):
        sandboxes = Sandbox.objects.annotate(records=Count("trail")).order_by("created")
        rows = [
            {
                "id": str(s.id),
                "name": s.name,
                "owner": s.owner,
                "created": s.created.isoformat(),
                "version": s.version,
                "records": s.records,
            }
            for s in sandboxes
        ]
        if as_json:
            self._json(rows)
            return
        for row in rows:
            self.stdout.write(
                f"{row['id']}  {row['name'] or '-':<12} records {row['records']:<6} created {row['created']}"
            )
        self.stdout.write(f"{len(rows)} sandbox{'es' if len(rows) != 1 else ''}")

    def do_reset(self, id, base_url, as_json, **_):
        if id == "open":
            self._reset_open(as_json)
            return
        sandbox = self._sandbox(id)
        principals = runner.reset(sandbox.id)
        self._show_credentials(sandbox, principals, base_url, as_json)

    def _reset_open(self, as_json):
        found = open_sandbox.reset()
        if as_json:
            self._json({"id": str(found) if found else None})
        elif found is None:
            self.stdout.write("There is no open sandbox yet: the first call KMSLAB_ALLOW_ANY_CREDENTIALS serves makes it.")
        else:
            self.stdout.write(f"Reset the open sandbox {found}: a fresh world, an empty trail.")

    def do_delete(self, id, **_):
        sandbox = self._sandbox(id)
        runner.delete(sandbox.id)
        self.stdout.write(f"Deleted sandbox {sandbox.id}")

    def do_clock(self, id, advance, **_):
        sandbox = self._sandbox(id)
        try:
            seconds = parse_duration(advance)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            records = runner.advance_clock(sandbox.id, seconds)
        except ClockLimitError as exc:
            raise CommandError(str(exc)) from None
        except runner.ReadOnly:
            raise CommandError(runner.READ_ONLY_MESSAGE) from None
        now = runner.load_world(sandbox.id).now()
        self.stdout.write(f"Sandbox {sandbox.id}: clock advanced {advance}, now {iso(now)}")
        for record in records:
            arns = ", ".join(r["ARN"] for r in record.get("resources", []))
            self.stdout.write(f"  {record['eventName']} {arns}")

    def do_demo(self, base_url, **_):
        sandbox = Sandbox.objects.filter(name=DEMO_NAME).order_by("created").first()
        if sandbox is None:
            sandbox, principals = runner.create_sandbox(owner="", name=DEMO_NAME)
            made = "Created the demo sandbox"
        else:
            principals = _principals_of(runner.load_world(sandbox.id))
            made = "The demo sandbox"
        base_url = base_url.rstrip("/")
        self.stdout.write(f"\n{made} {sandbox.id}. Open it in the console:")
        self.stdout.write(f"  {console_url(sandbox.id, base_url)}")
        self.stdout.write("")
        if not principals:
            self.stdout.write(f"Its admin users have no active access keys: manage.py sandbox reset {sandbox.id}")
            return
        self.stdout.write("Call it with the AWS CLI or boto3 as either account's admin (allowed everything there):")
        for p in sorted(principals, key=lambda p: p["arn"]):
            self.stdout.write(
                f"""
  # {p['arn']}
  export AWS_ACCESS_KEY_ID={p['access_key_id']}
  export AWS_SECRET_ACCESS_KEY={p['secret_access_key']}"""
            )
        self.stdout.write(
            f"""
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url {base_url}/aws/ kms create-key

  boto3.client("kms", endpoint_url="{base_url}/aws/", region_name="us-east-1")

Other sandboxes: manage.py sandbox create --json
"""
        )

    def _show_credentials(self, sandbox, principals, base_url, as_json):
        shown = {
            "id": str(sandbox.id),
            "accounts": sorted({p["arn"].split(":")[4] for p in principals}),
            "principals": principals,
            "console_url": console_url(sandbox.id, base_url),
        }
        if as_json:
            self._json(shown)
            return
        self.stdout.write(f"Sandbox {shown['id']}")
        self.stdout.write(f"  console: {shown['console_url']}")
        for p in principals:
            self.stdout.write(f"  {p['arn']}  {p['access_key_id']}  {p['secret_access_key']}")

    def _sandbox(self, text):
        try:
            return Sandbox.objects.only("id").get(pk=uuid.UUID(text))
        except (ValueError, Sandbox.DoesNotExist):
            raise CommandError(f"No sandbox {text}") from None

    def _json(self, value):
        self.stdout.write(json.dumps(value, indent=2))


def console_url(sandbox_id, base_url):
    """The console's claim link: whoever opens it, and confirms, gets this sandbox in their session."""
    return base_url.rstrip("/") + claim_path(Sandbox.objects.only("id", "resets").get(pk=sandbox_id))


def _principals_of(world):
    """Each account's admin with its first active access key, secret unsealed."""
    found = []
    for key_id, key in world.doc["access_keys"].items():
        if key["UserName"] == "admin" and key["Status"] == "Active":
            user = world.account(key["Account"])["users"].get("admin")
            if user:
                secret, _ = cloud_principals.secret_for_access_key(world, key_id)
                found.append({"arn": user["Arn"], "access_key_id": key_id, "secret_access_key": secret.decode()})
    return found
