"""What every fuzzed answer must be, and the wild values the fuzz sends.

Each request is measured on its own: wall-clock time and tracemalloc's peak
above what was allocated before it (so a blow-up shows on the request that
caused it, not as a slow suite).
"""
import csv
import io
import json
import time
import tracemalloc
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Generous for CI on two busy cores, with tracemalloc on (it slows Python down
# about twofold); a quadratic loop or a runaway allocation still blows them.
SECONDS = 2.0
MEGABYTES = 8
# A request body is held a few times over: as read, decoded, parsed, and in
# the answer (a console form keeps what was typed, and shows it HTML-escaped,
# where one " is six bytes); that much is the body's, not a blow-up. The
# blow-ups found so far took 80 to 130 times the body.
BODY_COPIES = 24

# Fixed, derandomized and without a stored example database: the same run here and in CI.
FUZZ = settings(
    deadline=None, derandomize=True, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
                           HealthCheck.large_base_example],
)


def measure(send, body_size=0):
    """send() -> its result, after checking the request's time and memory against the bounds.

    A request over the time bound is sent again, and fails only if it is slow twice: a
    blow-up repeats, a pause of a busy CI machine (another process, a garbage collection) does not."""
    result, seconds, peak = _measured(send)
    if seconds >= SECONDS:
        result, seconds, peak = _measured(send)
    assert seconds < SECONDS, f"took {seconds:.2f} s, twice (bound {SECONDS} s)"
    allowed = MEGABYTES * 2**20 + BODY_COPIES * body_size
    assert peak < allowed, f"peak {peak / 2**20:.1f} MB above the start (bound {allowed / 2**20:.1f} MB)"
    return result


def _measured(send):
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        result = send()
        seconds = time.perf_counter() - started
        return result, seconds, tracemalloc.get_traced_memory()[1] - before
    finally:
        if started_here:
            tracemalloc.stop()


class _StrictHTML(HTMLParser):
    """Python's HTML parser, which recovers from anything, made to count what it had to recover from."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def unknown_decl(self, data):
        self.problems.append(f"unknown declaration {data[:60]!r}")


def well_formed(content_type, body):
    """Raise unless the body is what its content type says: UTF-8 that parses as HTML, JSON, XML or CSV."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return
    text = body.decode("utf-8")  # strict: a body that is not UTF-8 fails here
    if kind in ("application/json", "application/x-amz-json-1.1"):
        json.loads(text)
    elif kind == "text/xml":
        ET.fromstring(body)
    elif kind == "text/html":
        parser = _StrictHTML()
        parser.feed(text)
        parser.close()
        assert not parser.problems, parser.problems
    elif kind == "text/csv":
        list(csv.reader(io.StringIO(text, newline="")))
    else:
        raise AssertionError(f"an answer of unexpected type {content_type!r}")


# Values. Surrogates are left out: they cannot be encoded, so no client can send them.
CONTROL = "".join(map(chr, range(32))) + "\x7f\x85\u2028\u2029\ufeff\ufffe"
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
control_text = st.text(st.sampled_from(CONTROL + "a<>&'\"]]>"), min_size=1, max_size=20)


class Repeated(str):
    """A long string of repeats, shown in a failing example as how it was made."""

    def __new__(cls, head, unit, count, tail=""):
        text = super().__new__(cls, head * count + unit + tail * count)
        text.made = f"{head!r} * {count} + {unit!r} + {tail!r} * {count}" if tail else f"{head!r} * {count}"
        return text

    def __repr__(self):
        return f"Repeated({self.made})"


# Huge: a character repeated, long enough to hit every limit (and the 1 MB body limit of /aws/).
huge_text = st.builds(lambda c, n: Repeated(c, "", n), st.sampled_from(["A", "é", "𝄞", "{", "<", "%", "9", " "]),
                      st.sampled_from([5_000, 150_000]))
deep_json = st.builds(
    lambda n, wrap: Repeated(wrap[0], wrap[1], n, wrap[2]),
    st.sampled_from([40, 3_000, 100_000]),
    st.sampled_from([("[", "1", "]"), ('{"a":', "1", "}"), ('{"Statement":[', "{}", "]}")]),
)
number_text = st.integers(-(2**70), 2**70).map(str) | st.sampled_from(
    ["0", "-1", "1e9", "NaN", "Infinity", "99999999999999999999999", "1" * 5000, "0x10", "٣", "²"])


# In a URL, long rather than huge: kmslab.serve refuses a request line over 16 KB before the app sees it.
long_text = st.builds(lambda c, n: Repeated(c, "", n), st.sampled_from(["A", "é", "<", "%"]),
                      st.sampled_from([300, 1000]))
nested_json = st.builds(lambda n: Repeated("[", "1", n, "]"), st.sampled_from([33, 300]))


def wild(*known, in_url=False):
    """A value: one the page itself offers (known), or anything at all."""
    options = [any_text, control_text, number_text] + ([long_text, nested_json] if in_url else [huge_text, deep_json])
    if known:
        options = [st.sampled_from(known)] * 3 + options
    return st.one_of(*options)
