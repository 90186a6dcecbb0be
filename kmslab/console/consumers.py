"""The live CloudTrail feed: one websocket per open trail page, one group listener per sandbox and process."""
import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import QueryDict
from django.template.loader import render_to_string

from kmslab.sandboxes.models import TrailRecord
from kmslab.sandboxes.runner import group_name

from . import learner
from .trail import TrailFilterForm, apply, row

logger = logging.getLogger(__name__)

# Rendered fragments by (record ids, filters), shared by every socket in this
# process: with 200 learners watching one sandbox, a call is rendered once per
# distinct filter, not 200 times. Entries go once every waiting socket has them.
_fragments = {}

# Each sandbox's feed in this process, by group name. Not the sockets but one
# listener task per feed is in the channel-layer group, so the layer carries one
# message per process and sandbox instead of one per socket (at 200 sockets the
# per-socket layer and dispatch work was most of a call's fan-out cost). The
# listener is no socket, so a socket leaving never loses or doubles an event.
_feeds = {}


class Feed:
    """A sandbox's sockets in this process and the task that listens to its group for them."""

    def __init__(self, layer, group):
        self.layer, self.group, self.channel = layer, group, None
        self.stopped = False
        self.sockets = []
        self.joined = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self.listen())

    async def listen(self):
        try:
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, self.channel)
            self.joined.set_result(None)
            while not self.stopped:
                event = await self.layer.receive(self.channel)
                if event.get("type") == "trail.record":
                    await self.relay(tuple(event["ids"]))
        except Exception:
            if self.stopped:
                # Cancelled: channels-redis can end a cancelled receive with redis-py's
                # TimeoutError (up to its 5 s BZPOPMIN later) instead of CancelledError.
                return
            # The layer failed (Redis gone, say). Closing the sockets makes their
            # pages reconnect, and the first to come back starts a new listener.
            logger.exception("the live feed's listener for %s failed", self.group)
            if _feeds.get(self.group) is self:
                del _feeds[self.group]
            for socket in self.sockets:
                await socket.close()

    async def stop(self):
        """The last socket left: out of the group first, so no message waits for a listener that is gone."""
        self.stopped = True
        self.task.cancel()
        if self.channel is not None:
            await self.layer.group_discard(self.group, self.channel)

    async def relay(self, ids):
        for socket in list(self.sockets):
            try:
                await socket.deliver(ids)
            except Exception:
                # One broken socket must not cost the others their rows.
                logger.exception("live feed: a socket's delivery failed")


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
        await self.accept()
        # No await between finding the feed and joining it: the last socket of a
        # feed takes it out of _feeds as it goes, so a feed found here is alive.
        self.feed = _feeds.get(self.group)
        if self.feed is None:
            self.feed = _feeds[self.group] = Feed(self.channel_layer, self.group)
        self.feed.sockets.append(self)
        # "connected" once the listener is in the group: from then on no call is missed.
        if not self.feed.joined.done():
            await asyncio.wait([self.feed.joined, self.feed.task], return_when=asyncio.FIRST_COMPLETED)
            if not self.feed.joined.done():
                return  # the listener failed and closed this socket
        await self.send(text_data=render_to_string("console/_live_state.html", {"live": True}))

    async def disconnect(self, code):
        feed = getattr(self, "feed", None)
        if feed is None or self not in feed.sockets:
            return
        feed.sockets.remove(self)
        if not feed.sockets and _feeds.get(self.group) is feed:
            # The last socket of this feed here. (One that connects meanwhile starts a new feed.)
            del _feeds[self.group]
            await feed.stop()

    async def receive(self, text_data=None, bytes_data=None):
        """The feed only sends; anything a client says is ignored."""

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
        found = apply(TrailRecord.objects.filter(sandbox_id=self.sandbox.id, pk__in=ids), self.filters)
        rows = [row(r) for r in found.order_by("-sequence")]
        if not rows:
            return ""
        return render_to_string("console/_trail_prepend.html", {"sandbox": self.sandbox, "rows": rows})
