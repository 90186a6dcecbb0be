"""The in-memory channel layer, without its quadratic cost for one busy group.

Channels' InMemoryChannelLayer walks every channel to drop expired messages on
each receive. With N sockets watching one sandbox, one broadcast wakes N
receives, so each call cost N² steps: about 200 ms of CPU at 200 sockets
(scripts/bench_feed.py). Expired messages only need dropping now and then;
once a second keeps memory bounded just as well.
"""
import time

from channels import layers

CLEAN_EVERY = 1.0  # seconds


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    _cleaned = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned >= CLEAN_EVERY:
            self._cleaned = now
            super()._clean_expired()
