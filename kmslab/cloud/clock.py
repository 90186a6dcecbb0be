"""The sandbox clock: real time plus an offset the learner can fast-forward.

Time in a world only ever comes from here, so tests can freeze it and a
learner can jump 30 days ahead to watch a deletion window end.
"""
import time
from datetime import datetime, timezone

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

# Every time a world writes down (CloudTrail's eventTime, the console's
# dates) goes through datetime, which ends with the year 9999, and a world
# schedules up to 2,560 days past its clock (a key's rotation period).
END = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
HORIZON = 2560 * 86400
# The latest time an advance may take a sandbox clock to: ten years short of
# END, which leaves room for HORIZON and for the real time that carries a
# clock on after its last advance.
LATEST = datetime(9990, 1, 1, tzinfo=timezone.utc).timestamp()


class ClockLimitError(ValueError):
    """An advance that would take the clock past LATEST."""


class Clock:
    def __init__(self, offset=0.0, real=time.time):
        self.offset = float(offset)
        self.real = real
        # A clock advanced before advances had a limit may be where no date
        # can be written: it resumes at the limit.
        if self.now() > END - HORIZON:
            self.offset = LATEST - real()

    def now(self):
        return self.real() + self.offset

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        now = self.now()
        if now + seconds > LATEST:
            left = _largest_duration(LATEST - now)
            reach = f"from {iso(now)} it can move ahead at most {left}" if left else "it can move ahead no further"
            raise ClockLimitError(
                f"The sandbox clock cannot pass {iso(LATEST)}, the latest time kmslab can represent: {reach}."
            )
        self.offset += seconds


def parse_duration(text):
    """'30d', '12h', '90m' -> seconds."""
    text = text.strip()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit():
        raise ValueError(f"'{text}' is not a duration like 30d, 12h or 90m")
    return int(text[:-1]) * UNITS[text[-1]]


def _largest_duration(seconds):
    """The duration in parse_duration's words, in its largest whole unit, that fits in `seconds`: '3d', or ''."""
    for unit in "dhm":
        count = int(seconds // UNITS[unit])
        if count:
            return f"{count}{unit}"
    return ""


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
