"""Standing rules of the layout."""
import ast
from pathlib import Path

CLOUD = Path(__file__).resolve().parent.parent / "kmslab" / "cloud"


def test_the_simulated_cloud_never_imports_django_or_channels():
    offenders = []
    for path in CLOUD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("django", "channels")]
    assert offenders == []
