"""The live CloudTrail feed: one websocket per open trail page, one group per sandbox."""
import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import QueryDict
from django.template.loader import render_to_string

from kmslab.sandboxes.models import TrailRecord
from kmslab.sandboxes.runner import group_name

from . import learner
from .trail import TrailFilterForm, apply, render_rows

# Rendered fragments by (record ids, filters), shared by every socket in this
# process: with 200 learners watching one sandbox, a call is rendered once per
# distinct filter, not 200 times. Entries go once every waiting socket has them.
_fragments = {}

# The sockets of each sandbox's feed in this process. Only the first is in the
# channel-layer group; it hands each event to the others, so the layer carries
# one message per process and sandbox instead of one per socket (at 200 sockets
# the per-socket layer and dispatch work was most of a call's fan-out cost).
_feeds = {}


class TrailConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        # The same check as the pages: the session must own or have claimed the sandbox.
        # (The origin was checked by AllowedHostsOriginValidator in asgi.py.)
        session = self.scope.get("session") or {}
        sandbox_id = self.scope["url_route"]["kwargs"]["sandbox_id"]
        self.sandbox = await database_sync_to_async(lambda: learner.visible(session).filter(id=sandbox_id).first())()
        if self.sandbox is None:
            await self.close()
            return
        query = QueryDict(self.scope.get("query_string", b"").decode("latin-1"))
        self.filters = TrailFilterForm(query).filters()
        self.group = group_name(self.sandbox.id)
        feed = _feeds.setdefault(self.group, [])
        if not feed:
            await self.channel_layer.group_add(self.group, self.channel_name)
        feed.append(self)
        await self.accept()
        await self.send(text_data=render_to_string("console/_live_state.html", {"live": True}))

    async def disconnect(self, code):
        feed = _feeds.get(getattr(self, "group", None))
        if not feed or self not in feed:
            return
        first = feed[0] is self
        feed.remove(self)
        if first:
            # The next socket joins before this one leaves, so no event falls between.
            if feed:
                await self.channel_layer.group_add(self.group, feed[0].channel_name)
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if not feed:
            del _feeds[self.group]

    async def receive(self, text_data=None, bytes_data=None):
        """The feed only sends; anything a client says is ignored."""

    async def trail_record(self, event):
        """The runner committed new records: every socket of this feed in this process gets its rows."""
        ids = tuple(event["ids"])
        for socket in list(_feeds.get(self.group, ())):
            await socket.deliver(ids)

    async def deliver(self, ids):
        """This socket's filtered rows, newest first, to prepend."""
        html = await self.fragment(ids)
        if html:
            await self.send(text_data=html)

    async def fragment(self, ids):
        key = (ids, self.filters)
        task = _fragments.get(key)
        if task is None:
            task = asyncio.ensure_future(database_sync_to_async(self.render)(ids))
            _fragments[key] = task
            # Sockets of this group get the event in the same loop pass; a second is ample.
            asyncio.get_running_loop().call_later(1.0, _fragments.pop, key, None)
        return await task

    def render(self, ids):
        rows = apply(TrailRecord.objects.filter(sandbox_id=self.sandbox.id, pk__in=ids), self.filters)
        html = render_rows(self.sandbox, rows.order_by("-sequence"))
        if not html:
            return ""
        return render_to_string("console/_trail_prepend.html", {"rows": html})
