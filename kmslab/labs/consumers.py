"""A lab run's live objectives: one websocket per open lab page or console side panel."""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from kmslab.console import learner
from kmslab.workshops import live as workshop_live

from . import live, pages
from .models import LabRun


class LabConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        # The pages' own check: the session must own or have claimed the run's sandbox.
        session = self.scope.get("session") or {}
        sandbox_id = self.scope["url_route"]["kwargs"]["sandbox_id"]
        visible = await database_sync_to_async(
            lambda: learner.visible(session).filter(id=sandbox_id, lab_run__isnull=False).exists())()
        if not visible:
            await self.close()
            return
        self.sandbox_id = sandbox_id
        self.group = live.group_name(sandbox_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # A workshop learner's run hears the instructor's announcements too.
        workshop_id = await database_sync_to_async(
            lambda: LabRun.objects.filter(pk=sandbox_id).values_list("learner__workshop_id", flat=True).first())()
        self.announcements = workshop_live.learners_group(workshop_id) if workshop_id else None
        if self.announcements:
            await self.channel_layer.group_add(self.announcements, self.channel_name)
        await self.accept()
        # What was met between the page's render and now is sent at once, with the "live" badge.
        await self.send(text_data=await database_sync_to_async(self.render)(connected=True))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "announcements", None):
            await self.channel_layer.group_discard(self.announcements, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """The page only listens; anything a client says is ignored."""

    async def lab_progress(self, event):
        await self.send(text_data=await database_sync_to_async(self.render)())

    async def workshop_announcement(self, event):
        await self.send(text_data=await database_sync_to_async(self.render_announcement)())

    def render_announcement(self):
        run = LabRun.objects.select_related("learner__workshop").get(pk=self.sandbox_id)
        return render_to_string("workshops/_announcement.html", {"workshop": run.learner.workshop, "oob": True})

    def render(self, connected=False):
        run = LabRun.objects.select_related("sandbox").get(pk=self.sandbox_id)
        html = render_to_string("labs/_progress.html", {**pages.progress_context(run), "oob": True})
        if connected:
            html += render_to_string("labs/_lab_live_state.html")
        return html
