"""The lab catalogue: one TOML file a lab under catalog/, read and checked here.

Plain Python (no Django), so a lab file can be validated, set up and checked
in a shell. `load()` reads every file once; `problems(lab)` lists what is wrong
with one (a name it refers to that its setup never makes, a missing hint tier,
an unknown check kind), which `manage.py labs validate` reports.
"""
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

CATALOG = Path(__file__).parent / "catalog"
LEVELS = ("intro", "practitioner", "expert")
ACCOUNTS = {"A": "111122223333", "B": "444455556666"}
# The cast of every lab (issue: labs): account A's key administrator, application,
# auditor and compromised user, account B's partner application.
CAST = (("A", "alice"), ("A", "bob"), ("A", "dave"), ("A", "mallory"), ("B", "carol"))
CHECK_KINDS = ("trail", "can", "cannot", "state", "lint", "unchanged", "any", "all")
PLACEHOLDER = re.compile(r"\{\{([A-Za-z]+)(?::([^}]*))?\}\}")


@dataclass(frozen=True)
class Objective:
    id: str
    title: str
    failure: str
    hints: tuple
    checks: tuple  # dicts, all of which must hold
    after: str | None = None  # an objective that must be done first


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown
    objectives: tuple


@dataclass(frozen=True)
class Lab:
    slug: str
    title: str
    level: str
    minutes: int
    topics: tuple
    goals: tuple
    lesson: str
    docs: tuple  # ({"title", "url"}, ...)
    setup: dict
    steps: tuple
    objectives: tuple
    debrief: dict
    solve: tuple
    path: Path = field(compare=False, default=None)

    def objective(self, objective_id):
        return next((o for o in self.objectives if o.id == objective_id), None)

    @cached_property
    def trail_specs(self):
        """Every record spec the lab's trail checks match, `before` ones included."""
        specs = []
        for objective in self.objectives:
            for check in _flat(objective.checks):
                if check["kind"] == "trail":
                    specs.append(check)
                    if check.get("before"):
                        specs.append(check["before"])
        return specs

    @cached_property
    def trail_events(self):
        """The event names the lab's trail checks read: the only records its checks need."""
        return {name for spec in self.trail_specs for name in _names(spec.get("event"))}


def _names(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _flat(checks):
    for check in checks:
        yield check
        if check.get("kind") in ("any", "all"):
            yield from _flat(check.get("checks", ()))


class LabFileError(ValueError):
    pass


def parse(text, path=None):
    data = tomllib.loads(text)
    try:
        objectives = tuple(
            Objective(
                id=o["id"], title=o["title"], failure=o.get("failure", ""), hints=tuple(o.get("hints", ())),
                checks=tuple(o["check"] if isinstance(o["check"], list) else [o["check"]]), after=o.get("after"),
            )
            for o in data.get("objectives", ())
        )
        steps = tuple(Step(s["title"], s["text"], tuple(s.get("objectives", ()))) for s in data.get("steps", ()))
        return Lab(
            slug=data["slug"], title=data["title"], level=data["level"], minutes=int(data["minutes"]),
            topics=tuple(data.get("topics", ())), goals=tuple(data.get("goals", ())), lesson=data.get("lesson", ""),
            docs=tuple(data.get("docs", ())), setup=data.get("setup", {}), steps=steps, objectives=objectives,
            debrief=data.get("debrief", {}), solve=tuple(data.get("solve", ())), path=path,
        )
    except KeyError as exc:
        raise LabFileError(f"{path or 'lab'}: missing field {exc.args[0]!r}") from None


@lru_cache(maxsize=1)
def load():
    """{slug: Lab}, in file-name order."""
    labs = {}
    for path in sorted(CATALOG.glob("*.toml")):
        lab = parse(path.read_text(), path)
        labs[lab.slug] = lab
    return labs


def get(slug):
    return load().get(slug)


def problems(lab):
    """What is wrong with a lab file, as sentences; [] when nothing is."""
    found = []
    if lab.path is not None and lab.path.stem != lab.slug:
        found.append(f"the file is {lab.path.name} but the slug is {lab.slug}")
    if lab.level not in LEVELS:
        found.append(f"level {lab.level!r} is not one of {', '.join(LEVELS)}")
    for name in ("why", "mistake", "recommendation"):
        if not lab.debrief.get(name):
            found.append(f"the debrief has no {name!r}")
    if not lab.solve:
        found.append("there is no solve script")
    ids = [o.id for o in lab.objectives]
    if len(set(ids)) != len(ids):
        found.append("two objectives share an id")
    named = {n for s in lab.steps for n in s.objectives}
    for objective_id in sorted(set(ids) - named):
        found.append(f"objective {objective_id} is in no step")
    for objective_id in sorted(named - set(ids)):
        found.append(f"a step names objective {objective_id}, which does not exist")
    users = principal_names(lab)
    aliases = {k["alias"] for k in lab.setup.get("keys", ())}
    files = {c["name"] for c in lab.setup.get("ciphertexts", ())} | {
        f"{u['name']}-mfa-seed" for u in lab.setup.get("users", ()) if u.get("mfa")} | {
        f"{u['name']}-access-key-id" for u in lab.setup.get("users", ()) if u.get("access_key_file")} | {
        g["file"] for g in lab.setup.get("grants", ()) if g.get("file")} | {
        k["material_file"] for k in lab.setup.get("keys", ()) if k.get("material_file")}
    for objective in lab.objectives:
        where = f"objective {objective.id}"
        if len(objective.hints) != 3 or not all(objective.hints):
            found.append(f"{where} needs three hints (a nudge, the concept, nearly the answer)")
        if not objective.failure:
            found.append(f"{where} has no failure message")
        if objective.after and objective.after not in ids:
            found.append(f"{where} comes after {objective.after}, which does not exist")
        for check in _flat(objective.checks):
            kind = check.get("kind")
            if kind not in CHECK_KINDS:
                found.append(f"{where}: unknown check kind {kind!r}")
                continue
            for name in _names(check.get("principal")):
                if name != "*" and name not in users:
                    found.append(f"{where}: principal {name} is not in the lab")
            for name in _names(check.get("except")):
                if name not in users:
                    found.append(f"{where}: principal {name} is not in the lab")
            key = check.get("key")
            if key and key not in aliases and not check.get("created"):
                found.append(f"{where}: key {key} is not in the lab's setup")
            if kind in ("can", "cannot", "unchanged") and not check.get("action"):
                found.append(f"{where}: a {kind} check needs an action")
    for where, spec in [(f"setup grant {i}", g) for i, g in enumerate(lab.setup.get("grants", ()), 1)]:
        if spec.get("key") not in aliases:
            found.append(f"{where}: key {spec.get('key')} is not in the lab's setup")
        for name in _names(spec.get("grantee")) + _names(spec.get("retiring")):
            if not name.startswith("arn:") and name not in users and name.partition("@")[0] not in users:
                found.append(f"{where}: principal {name} is not in the lab")
    for i, spec in enumerate(lab.setup.get("probes", ()), 1):
        if spec.get("as") not in users - {"root", "root@B"}:
            found.append(f"setup probe {i}: principal {spec.get('as')} is not in the lab")
        for name, arg in PLACEHOLDER.findall(repr(spec.get("request", {}))):
            if name in ("key", "keyid") and arg not in aliases:
                found.append(f"setup probe {i}: key {arg} is not in the lab's setup")
            if name == "file" and arg not in files:
                found.append(f"setup probe {i}: file {arg} is not in the lab")
    for objective in lab.objectives:
        for check in _flat(objective.checks):
            grants = check.get("grants") or check.get("grant") or {}
            for name in _names(grants.get("grantee")) + _names(grants.get("retiring")) + _names(check.get("user")):
                if name not in users and name.partition("@")[0] not in users:
                    found.append(f"objective {objective.id}: principal {name} is not in the lab")
    for i, step in enumerate(lab.solve, 1):
        if step.get("as") and step["as"] not in users - {"root", "root@B"}:
            found.append(f"solve step {i}: principal {step['as']} is not in the lab")
        for name, arg in PLACEHOLDER.findall(repr(step.get("request", {})) + repr(step.get("import_material", {}))):
            if name in ("key", "keyid") and arg not in aliases:
                found.append(f"solve step {i}: key {arg} is not in the lab's setup")
            if name == "file" and arg not in files and arg not in _saved(lab):
                found.append(f"solve step {i}: file {arg} is not in the lab")
    return found


def _saved(lab):
    return {s["save"] for s in lab.solve if s.get("save")}


def principal_names(lab):
    """Every principal a lab file may name: the cast, its own users, and the admins."""
    names = {name for _, name in CAST} | {"admin", "admin@B", "root", "root@B"}
    names |= {u["name"] for u in lab.setup.get("users", ())}
    names |= {r["name"] for r in lab.setup.get("roles", ())}
    return names


def placeholders(keys, files, region="us-east-1"):
    """The lookup `substitute` fills placeholders from: accounts, the region, keys by alias, files."""
    def lookup(name, arg):
        if name in ACCOUNTS:
            return ACCOUNTS[name]
        if name == "region":
            return region
        if name == "key":
            return keys[arg]
        if name == "keyid":
            return keys[arg].rsplit("/", 1)[1]
        if name == "file":
            return files[arg]
        raise LabFileError(f"unknown placeholder {{{{{name}}}}}")
    return lookup


def substitute(value, lookup):
    """Fill in {{A}}, {{B}}, {{key:alias/x}}, {{file:name}}… in strings, lists and tables."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: lookup(m.group(1), m.group(2)), value)
    if isinstance(value, list):
        return [substitute(v, lookup) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, lookup) for k, v in value.items()}
    return value
