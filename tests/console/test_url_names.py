"""Every page a template links to exists: `{% url … as x %}` renders "" for a name that does not,
so a renamed URL would leave a dead link or an action posting nowhere, silently."""
import re
from pathlib import Path

from django.urls import get_resolver

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
URL_TAG = re.compile(r"""{%\s*url\s+["']([\w:]+)["']""")


def url_names():
    resolver = get_resolver()
    names = {name for name in resolver.reverse_dict if isinstance(name, str)}
    for namespace, (_, sub) in resolver.namespace_dict.items():
        names |= {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}
    return names


def test_every_url_name_in_a_template_exists():
    known = url_names()
    named = {(path.relative_to(TEMPLATES).as_posix(), name)
             for path in TEMPLATES.rglob("*.html") for name in URL_TAG.findall(path.read_text())}
    assert len(named) > 50
    assert [(path, name) for path, name in sorted(named) if name not in known] == []
