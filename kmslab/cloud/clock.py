"""The sandbox clock: real time plus an offset the learner can fast-forward.

Time in a world only ever comes from here, so tests can freeze it and a
learner can jump 30 days ahead to watch a deletion window end.
"""
import time
from datetime import datetime, timezone

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class Clock:
    def __init__(self, offset=0.0, real=time.time):
        self.offset = float(offset)
        self.real = real

    def now(self):
        return self.real() + self.offset

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds


def parse_duration(text):
    """'30d', '12h', '90m' -> seconds."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit():
        raise ValueError(f"'{text}' is not a duration like 30d, 12h or 90m")
    return int(text[:-1]) * UNITS[text[-1]]


def iso(epoch):
    """CloudTrail's time format: 2025-05-20T20:46:16Z.

    Every call's record needs one, and calls come many to a second: the last
    second's text is kept."""
    global _last_iso
    second = int(epoch // 1)
    last = _last_iso
    if last[0] != second:
        last = _last_iso = (second, datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return last[1]


_last_iso = (None, "")
