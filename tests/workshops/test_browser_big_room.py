"""The dashboard of a room of 300 learners and 40 objectives, in Chromium: every row and cell, and one turning live.

The learners join and work in the server's database (tests/workshops/big_room.py: through the cohort and the
sandbox runner, in seconds); the instructor's page is Debian's Chromium against kmslab.serve, as in test_browser.py.
What the page shows is checked against the progress export; then one learner's boto3 call meets an
objective, and exactly that cell turns, with its total, without a reload.
"""
import json
from collections import Counter
from pathlib import Path

import pytest

from ..console.test_browser import SHOTS, chromium, server, watch_content_security_policy  # noqa: F401  (fixtures)
from . import big_room

pytestmark = [pytest.mark.browser, pytest.mark.live]

LEARNERS = 300
PASSWORD = "correct horse battery staple"

# Every cell as [its row's learner, data-learner, data-lab, data-objective, data-done].
CELLS = """() => Array.from(document.querySelectorAll("td.cell"), (c) =>
  [c.closest("tr").dataset.learnerRow, c.dataset.learner, c.dataset.lab, c.dataset.objective, c.dataset.done])"""
TOTALS = """() => Object.fromEntries(Array.from(document.querySelectorAll("td.total"), (t) =>
  [t.dataset.lab + " " + t.dataset.objective, Number(t.dataset.total)]))"""


def test_the_dashboard_of_300_learners_by_40_objectives_shows_every_cell_and_turns_one_live(chromium, server):  # noqa: F811
    from playwright.sync_api import expect

    made = big_room.create_workshop(server, "iris", PASSWORD)
    [fresh] = big_room.populate_on(server, made["id"], learners=LEARNERS, started=0.2, fresh=1)
    progress = server.manage("workshop", "export", str(made["id"]), "--format", "json")
    expected = {(r["learner"], r["lab"], r["objective"]): "true" if r["done"] else "false"
                for r in json.loads(progress)}
    assert len(expected) == LEARNERS * big_room.OBJECTIVES
    assert 0 < list(expected.values()).count("true") < len(expected) / 2

    base = f"http://127.0.0.1:{server.port}"
    context = chromium.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    refused = watch_content_security_policy(page)
    page.goto(base + "/login/")
    page.get_by_label("Username").fill("iris")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/instructor/")
    page.goto(base + f"/instructor/workshops/{made['id']}/")
    expect(page.locator("#dashboard-live")).to_have_text("live")
    expect(page.locator("#learner-count")).to_have_text(f"{LEARNERS} learners")
    expect(page.locator("tr[data-learner-row]")).to_have_count(LEARNERS)

    # Every learner's row has a cell for every objective, saying what the export says.
    cells = page.evaluate(CELLS)
    assert all(row == learner for row, learner, *_ in cells)
    shown = {(learner, lab, objective): done for _, learner, lab, objective, done in cells}
    assert len(cells) == len(shown) == LEARNERS * big_room.OBJECTIVES
    assert shown == expected
    totals = page.evaluate(TOTALS)
    key = f"{big_room.LIVE_LAB} {big_room.LIVE_OBJECTIVE}"
    met = Counter((lab, objective) for (_, lab, objective), done in expected.items() if done == "true")
    assert totals == {f"{lab} {objective}": met[lab, objective] for _, lab, objective in expected}

    # One learner's call meets an objective: its cell turns green, its total moves, and nothing else.
    page.evaluate("window.stillThisPage = true")  # gone if the dashboard reloads
    cell = page.locator(f'td.cell[data-learner="{fresh["learner"]}"][data-lab="{big_room.LIVE_LAB}"]'
                        f'[data-objective="{big_room.LIVE_OBJECTIVE}"]')
    expect(cell).to_have_attribute("data-done", "false")
    big_room.solve_over_http(server.url, fresh)
    expect(cell).to_have_attribute("data-done", "true")
    expect(page.locator(f'td.total[data-lab="{big_room.LIVE_LAB}"][data-objective="{big_room.LIVE_OBJECTIVE}"]')
           ).to_have_attribute("data-total", str(totals[key] + 1))
    after = {(learner, lab, objective): done for _, learner, lab, objective, done in page.evaluate(CELLS)}
    turned = {k for k in after if after[k] != shown[k]}
    assert turned == {(fresh["learner"], big_room.LIVE_LAB, big_room.LIVE_OBJECTIVE)}
    assert page.evaluate("window.stillThisPage") is True
    colour = "(c) => getComputedStyle(c).backgroundColor"
    done_before = next(k for k, done in shown.items() if done == "true")
    not_done = next(k for k, done in after.items() if done == "false")

    def look(k):
        return page.locator(f'td.cell[data-learner="{k[0]}"][data-lab="{k[1]}"][data-objective="{k[2]}"]')

    assert cell.evaluate(colour) == look(done_before).evaluate(colour) != look(not_done).evaluate(colour)

    if SHOTS:
        page.locator("#grid-h").evaluate("(h) => h.scrollIntoView()")
        page.screenshot(path=str(Path(SHOTS) / "workshop-big-room.png"))
    context.close()
    assert refused == []
