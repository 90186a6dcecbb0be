"""The workshop's websockets: the instructor's dashboard, and a learner's workshop page.

A dashboard keeps the pieces it has sent (dashboard.py). A message names a
learner; the learner is marked, and a flush at most every FLUSH_INTERVAL
reads the marked learners' rows afresh and sends only the pieces that changed,
with the totals they move. However many calls a second the room makes, a
dashboard reads each busy learner a few times a second, and a message lost
on the way is made good by the next about that learner, or by the full
refresh every REFRESH seconds (which also moves the "idle" minutes on).
"""
import asyncio
import logging
from datetime import datetime
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string
from django.utils import timezone

from . import cohort, dashboard, grid, live
from .models import Workshop

logger = logging.getLogger(__name__)

FLUSH_DELAY = 0.05  # after the first message, so a burst is read once
FLUSH_INTERVAL = 0.2
REFRESH = 20
RETRY = 1


class DashboardConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        workshop_id = self.scope["url_route"]["kwargs"]["workshop_id"]
        self.workshop = await database_sync_to_async(self._workshop)(user, workshop_id)
        if self.workshop is None:
            await self.close()
            return
        self.group = live.dashboard_group(workshop_id)
        self.dirty, self.flushing, self.last_flush = set(), None, 0.0
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        catch_up = await database_sync_to_async(self._baseline)()
        await self.send(text_data=catch_up)
        self.refresher = asyncio.get_running_loop().create_task(self._refresh_forever())

    @staticmethod
    def _workshop(user, workshop_id):
        if user is None or not user.is_authenticated:
            return None
        found = Workshop.objects.filter(pk=workshop_id)
        if not user.is_superuser:
            found = found.filter(instructor=user)
        return found.first()

    def _baseline(self):
        """What the page shows, as of its `since` and `at`, and the pieces that changed since, as HTML."""
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            since = int(query["since"][0])
            at = datetime.fromisoformat(query["at"][0])
        except (KeyError, ValueError):
            since, at = 0, timezone.now()
        self.learners = {learner.id: learner for learner in self.workshop.learners.all()}
        rows = dashboard.rows(self.workshop, self.learners.values())
        changed = dashboard.changed_since(self.workshop, since, at) if query else set(rows)
        # The page has the rows of the learners nothing happened to since; the others get every piece
        # (a learner who joined after it gets a new row).
        self.sent = {i: (r if i not in changed else {}) for i, r in rows.items() if self.learners[i].joined < at}
        self.totals = {}
        html = self._changes(rows)
        return html + render_to_string("workshops/_dashboard_live.html")

    def _changes(self, fresh):
        html = grid.changes(self.workshop, self.learners, self.sent, fresh)
        self.sent.update(fresh)
        totals = {**dashboard.totals(self.workshop, self.sent), "learners": len(self.sent)}
        html += grid.total_changes(self.workshop, self.totals, totals)
        self.totals = totals
        return html

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        for task in (getattr(self, "refresher", None), getattr(self, "flushing", None)):
            if task is not None:
                task.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        """The dashboard only listens; its controls are forms."""

    async def dashboard_learner(self, event):
        self.dirty.add(event["learner"])
        if self.flushing is None:
            self.flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(FLUSH_DELAY, self.last_flush + FLUSH_INTERVAL - loop.time()))
        try:
            while self.dirty:
                learners, self.dirty = self.dirty, set()
                try:
                    html = await database_sync_to_async(self._flush_rows)(learners)
                except Exception:
                    # A failed read (the database busy or gone a moment) must not close the instructor's
                    # dashboard: the learners stay marked and the next flush reads them again.
                    logger.exception("the dashboard of workshop %s could not read its learners", self.workshop.id)
                    self.dirty |= learners
                    await asyncio.sleep(RETRY)
                    continue
                if html:
                    await self.send(text_data=html)
                self.last_flush = loop.time()
                if self.dirty:
                    await asyncio.sleep(FLUSH_INTERVAL)
        finally:
            self.flushing = None

    def _flush_rows(self, learner_ids):
        new = [i for i in learner_ids if i not in self.learners]
        if new:
            self.learners.update({learner.id: learner for learner in self.workshop.learners.filter(id__in=new)})
        self.workshop.refresh_from_db()
        return self._changes(dashboard.rows(self.workshop, [self.learners[i] for i in learner_ids if i in self.learners]))

    async def _refresh_forever(self):
        while True:
            await asyncio.sleep(REFRESH)
            self.dirty.update(await database_sync_to_async(
                lambda: list(self.workshop.learners.values_list("id", flat=True)))())
            if self.flushing is None:
                self.flushing = asyncio.get_running_loop().create_task(self._flush())


class WorkshopConsumer(AsyncWebsocketConsumer):
    """A learner's workshop page: the instructor's announcements, and the workshop closing."""

    async def connect(self):
        session = self.scope.get("session") or {}
        workshop_id = self.scope["url_route"]["kwargs"]["workshop_id"]
        if not await database_sync_to_async(self._joined)(session, workshop_id):
            await self.close()
            return
        self.workshop_id = workshop_id
        self.group = live.learners_group(workshop_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @staticmethod
    def _joined(session, workshop_id):
        workshop = Workshop.objects.filter(pk=workshop_id).first()
        return workshop is not None and cohort.learner_of(session, workshop) is not None

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """The page only listens."""

    async def workshop_announcement(self, event):
        await self.send(text_data=await database_sync_to_async(self.render)())

    def render(self):
        workshop = Workshop.objects.get(pk=self.workshop_id)
        return render_to_string("workshops/_announcement.html", {"workshop": workshop, "oob": True})
