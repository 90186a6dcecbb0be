"""The dashboard's websocket sends the changed cells live; only the workshop's instructor may open it.
A learner's workshop page hears the announcements."""
import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.utils import timezone

from kmslab.asgi import application
from kmslab.workshops import consumers, controls, dashboard

from ..labs.test_consumers import fix_bob
from ..labs.test_views import call_as
from .people import instructor, joined, logged_in, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def socket(client, path, query=""):
    cookie = client.cookies["sessionid"].value if "sessionid" in client.cookies else "none"
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"),
               (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, path + query, headers=headers)


def room():
    iris = instructor()
    w = workshop(iris)
    alice = joined(w, "alice")
    run = start(alice, w)
    board = logged_in(iris)
    page = board.get(f"/instructor/workshops/{w.id}/").content.decode()
    query = re.search(r'ws-connect="/ws/workshops/\d+/dashboard/(\?[^"]+)"', page).group(1).replace("&amp;", "&")
    return iris, board, w, alice, run, query


async def until(ws, needle, timeout=3):
    """Messages until one holds `needle`; all of them."""
    seen = []
    while True:
        seen.append(await ws.receive_from(timeout=timeout))
        if needle in seen[-1]:
            return seen


async def test_a_met_objective_turns_its_cell_and_its_total_and_nothing_else_is_sent():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    ok, _ = await ws.connect()
    assert ok
    hello = await ws.receive_from(timeout=3)
    assert 'id="dashboard-live"' in hello and "data-done" not in hello  # nothing happened since the page
    assert (await sync_to_async(fix_bob)(run)).error is None
    seen = "".join(await until(ws, 'data-objective="bob-acme-only" data-done="true"'))
    assert 'data-learner="alice" data-lab="encryption-context" data-objective="bob-acme-only" data-done="true"' in seen
    assert seen.count('class="cell"') == 1  # only the changed cell, not the row, not the grid
    if 'data-total="1"' not in seen:
        seen += "".join(await until(ws, 'data-total="1"'))
    assert re.search(r'id="t-encryption-context-bob-acme-only"[^>]*data-total="1"', seen)
    await ws.disconnect()


async def test_three_denied_calls_in_a_row_on_one_operation_flag_a_learner_stuck():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=3)
    for _ in range(3):
        assert (await sync_to_async(call_as)(run, "bob", "ListKeys")).error.code == "AccessDeniedException"
    seen = "".join(await until(ws, 'data-stuck="true"'))
    assert "3 denied ListKeys calls in a row" in seen
    assert 'data-last-call="ListKeys" data-denied="true"' in seen
    assert "Implicitly denied" in seen  # the why of the last denied call
    await ws.disconnect()


async def test_a_learner_who_joins_later_gets_a_new_row_and_the_count_moves():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=3)
    bob = await sync_to_async(joined)(w, "bob<script>")
    await sync_to_async(start)(bob, w)
    seen = "".join(await until(ws, 'data-learners="2"'))
    assert 'hx-swap-oob="beforeend:#grid-body"' in seen and 'data-learner-row="bob&lt;script&gt;"' in seen
    assert "bob<script>" not in seen
    await ws.disconnect()


async def test_what_happened_between_the_page_and_the_socket_is_sent_on_connect():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    assert (await sync_to_async(fix_bob)(run)).error is None
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    assert (await ws.connect())[0]
    seen = "".join(await until(ws, 'id="dashboard-live"'))
    assert 'data-objective="bob-acme-only" data-done="true"' in seen
    await ws.disconnect()


async def test_a_reset_by_the_instructor_turns_the_cells_back():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    assert (await sync_to_async(fix_bob)(run)).error is None
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    assert (await ws.connect())[0]
    await until(ws, 'id="dashboard-live"')
    await sync_to_async(controls.reset_run)(w, iris, run)
    seen = "".join(await until(ws, 'data-objective="bob-acme-only" data-done="false"'))
    assert 'data-learner="alice"' in seen
    await ws.disconnect()


async def test_a_learner_or_another_instructor_cannot_open_the_dashboard_socket():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    assert not (await socket(alice, f"/ws/workshops/{w.id}/dashboard/").connect())[0]
    oscar = await sync_to_async(lambda: logged_in(instructor("oscar")))()
    assert not (await socket(oscar, f"/ws/workshops/{w.id}/dashboard/").connect())[0]


async def test_a_learner_hears_the_announcement_on_the_workshop_page_and_the_lab_page():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    page = socket(alice, f"/ws/workshops/{w.id}/")
    lab = socket(alice, f"/ws/sandboxes/{run.sandbox_id}/lab/")
    assert (await page.connect())[0] and (await lab.connect())[0]
    await lab.receive_from(timeout=3)  # the lab's own hello
    await sync_to_async(controls.announce)(w, iris, "Pizza <now>")
    for ws in (page, lab):
        message = await ws.receive_from(timeout=3)
        assert 'id="announcement" class="announcement-slot" hx-swap-oob="true"' in message
        assert "Pizza &lt;now&gt;" in message
        await ws.disconnect()


async def test_another_workshops_learner_hears_nothing_and_cannot_open_its_socket():
    iris, board, w, alice, run, query = await sync_to_async(room)()
    other = await sync_to_async(workshop)(iris, ["explicit-deny"])
    mallory = await sync_to_async(joined)(other, "mallory")
    assert not (await socket(mallory, f"/ws/workshops/{w.id}/").connect())[0]
    assert not (await socket(mallory, f"/ws/sandboxes/{run.sandbox_id}/lab/").connect())[0]


async def test_a_failed_read_keeps_the_dashboard_open_and_the_next_flush_sends_the_cell(monkeypatch, caplog):
    iris, board, w, alice, run, query = await sync_to_async(room)()
    ws = socket(board, f"/ws/workshops/{w.id}/dashboard/", query)
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=3)
    monkeypatch.setattr(consumers, "RETRY", 0.1)
    real_rows, failures = dashboard.rows, []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("connection lost")
        return real_rows(*args, **kwargs)

    monkeypatch.setattr(dashboard, "rows", flaky)
    assert (await sync_to_async(fix_bob)(run)).error is None
    seen = "".join(await until(ws, 'data-objective="bob-acme-only" data-done="true"'))
    assert 'data-learner="alice"' in seen and failures
    assert any("could not read its learners" in r.getMessage() for r in caplog.records)
    await ws.disconnect()
