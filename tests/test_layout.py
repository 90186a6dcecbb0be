"""Standing rules of the layout."""
import ast
from pathlib import Path

KMSLAB = Path(__file__).resolve().parent.parent / "kmslab"
# The simulated cloud, and the labs' pure parts beside it: lab files, setup, checks, solve scripts.
PURE = list((KMSLAB / "cloud").rglob("*.py")) + [
    KMSLAB / "labs" / f"{name}.py" for name in ("catalog", "setup", "checks", "solve", "trial")]


def test_the_simulated_cloud_and_the_lab_checks_never_import_django_or_channels():
    offenders = []
    for path in PURE:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("django", "channels")]
    assert offenders == []


def test_template_comments_close_on_their_line():
    # Django's {# #} is one line only: across lines it is printed on the page.
    templates = Path(__file__).resolve().parent.parent / "templates"
    unclosed = [
        f"{path.relative_to(templates)}:{n}"
        for path in templates.rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if line.count("{#") > line.count("#}")
    ]
    assert unclosed == []
