"""Every lab file in the catalogue: well formed, a fresh run meets nothing, its solve script meets everything."""
import pytest

from kmslab.labs import catalog

from .labrun import LabRun

SLUGS = sorted(catalog.load())


def test_the_catalogue_has_labs():
    assert "iam-vs-key-policy" in SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_a_lab_file_has_no_problems(slug):
    assert catalog.problems(catalog.get(slug)) == []


@pytest.mark.parametrize("slug", SLUGS)
def test_a_fresh_run_meets_no_objective_and_the_solve_script_meets_all(slug):
    run = LabRun(slug)
    assert not any(run.status().values())
    run.solve()
    assert all(run.status().values()), run.status()


def test_problems_name_what_is_wrong():
    lab = catalog.parse('''
slug = "broken"
title = "Broken"
level = "guru"
minutes = 5
[[objectives]]
id = "one"
title = "One"
hints = ["a"]
check = { kind = "can", principal = "zed", key = "alias/none" }
''')
    found = " | ".join(catalog.problems(lab))
    assert "level 'guru'" in found
    assert "three hints" in found
    assert "principal zed is not in the lab" in found
    assert "key alias/none is not in the lab's setup" in found
    assert "a can check needs an action" in found
    assert "objective one is in no step" in found
    assert "no solve script" in found
