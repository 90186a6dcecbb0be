"""The instructor's dashboard of a big room in Chromium: how long it takes to load, what it weighs, how fast a cell turns.

    .venv/bin/python scripts/bench_dashboard_browser.py [--learners 300] [--started 0.7] [--samples 20]
                                                        [--loads 3] [--screenshot FILE]

One server process (kmslab.serve, as `make run`; SQLite in a temporary
directory, the in-memory channel layer). `manage.py instructor create` and
`workshop create --json` with the 12 labs of tests/workshops/big_room.py (40
objectives), then --learners join in the server's database through
kmslab.workshops.cohort inside one `manage.py shell` (joining over HTTP is one
request and a Django session per learner, minutes on a shared machine), a share
--started of them having worked part way through one to three labs by real
calls through the sandbox runner (the labs' solve steps). --samples more have
just started encryption-context: their calls go over HTTP, with boto3.

Then headless Chromium (Debian's /usr/bin/chromium, Playwright) logs in as
the instructor and opens the dashboard --loads times. Printed: the page load
(navigation start -> every cell present and the socket's "live" badge shown;
also the HTML's arrival and DOMContentLoaded), its size, the DOM's element
and node counts, the JS heap (CDP Performance.getMetrics), Chromium's layout
and style times, then per sample learner the delay from the answer to the
boto3 call that meets an objective (PutUserPolicy, the lab's second solve
step) to its cell turning data-done="true" in the page, p50/p99/max, one
sample at a time with the room otherwise idle, and keyboard/scroll frames
(keydown or scroll -> the frame after it painted).

No pass/fail: figures only. The machine's load changes them a lot; repeat.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmslab.labs import catalog  # noqa: E402
from tests.api.live import Server  # noqa: E402
from tests.workshops import big_room  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-dashboard-Pw-73!"
SERVER_ENV = {"KMSLAB_CREATE_RATE": "1000000", "KMSLAB_GUESS_RATE": "1000000", "KMSLAB_LOG_LEVEL": "ERROR"}

# Runs before the page's own scripts (CDP, so the Content-Security-Policy does not apply): notes when the socket's
# badge says "live" and when each cell arrives done, without polling from outside.
WATCH = """
window.__bench = {done: {}, frames: []};
const note = () => {
  const badge = document.getElementById("dashboard-live");
  if (!window.__bench.live && badge && badge.textContent.trim() === "live") {
    window.__bench.live = performance.now();
    window.__bench.cellsAtLive = document.querySelectorAll("td.cell").length;
  }
};
const cells = (records) => {
  for (const record of records) {
    for (const node of record.type === "attributes" ? [record.target] : record.addedNodes) {
      if (node.nodeType === 1 && node.matches("td.cell[data-done=true]")) {
        const key = [node.dataset.learner, node.dataset.lab, node.dataset.objective].join("|");
        if (!(key in window.__bench.done)) window.__bench.done[key] = Date.now();
      }
    }
  }
};
document.addEventListener("DOMContentLoaded", () => {
  window.__bench.cellsAtDom = document.querySelectorAll("td.cell").length;
  note();
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  new MutationObserver(cells).observe(document.getElementById("grid-body"),
                                      {subtree: true, childList: true, attributes: true, attributeFilter: ["data-done"]});
});
addEventListener("keydown", (event) => {
  requestAnimationFrame(() => setTimeout(() => window.__bench.frames.push(performance.now() - event.timeStamp), 0));
}, true);
"""

NAVIGATION = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  return {response: n.responseStart, html: n.responseEnd, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,
          bytes: n.transferSize, decoded: n.decodedBodySize,
          elements: document.getElementsByTagName("*").length, nodes: (() => {
            const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
            let count = 1;
            while (walker.nextNode()) count++;
            return count;
          })(),
          cells: document.querySelectorAll("td.cell[data-learner][data-objective][data-done]").length,
          rows: document.querySelectorAll("tr[data-learner-row]").length,
          heap: performance.memory ? performance.memory.usedJSHeapSize : null};
}"""

# Scrolls of the grid's own box (it scrolls both ways; its head and names stick), each until the frame after.
SCROLL = """async () => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const box = document.querySelector(".grid-scroll");
  const times = [];
  for (const move of [() => box.scrollBy(600, 0), () => box.scrollBy(-600, 0), () => box.scrollBy(0, 2000),
                      () => box.scrollBy(0, 8000), () => box.scrollTo(0, 0)]) {
    const started = performance.now();
    move();
    await frame();
    times.push(performance.now() - started);
  }
  return times;
}"""


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--started", type=float, default=0.7)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--screenshot", help="save a screenshot of the loaded dashboard here (PNG)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    var_dir = Path(tempfile.mkdtemp(prefix="kmslab-bench-dashboard-"))
    Server.migrate_database(var_dir)
    server = Server(var_dir, **SERVER_ENV).wait_until_ready()
    base = f"http://127.0.0.1:{server.port}"
    try:
        started = time.monotonic()
        workshop = big_room.create_workshop(server, "bench", PASSWORD)
        fresh = big_room.populate_on(server, workshop["id"], learners=args.learners, started=args.started,
                                     fresh=args.samples)
        labs = [catalog.get(slug) for slug in big_room.LABS]
        columns = sum(len(lab.objectives) for lab in labs)
        done = server.manage("workshop", "export", str(workshop["id"]), "--format", "csv").count(",true,")
        print(f"room: {args.learners} learners x {columns} objectives ({len(labs)} labs) = "
              f"{args.learners * columns} cells, {done} met; set up in {time.monotonic() - started:.0f} s "
              f"(in the server's database, objectives met by calls through the runner)")

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(120000)
            page.goto(base + "/login/")
            page.get_by_label("Username").fill("bench")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/instructor/")
            page.add_init_script(WATCH)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")

            loads = []
            for _ in range(args.loads):
                began = time.monotonic()
                page.goto(base + f"/instructor/workshops/{workshop['id']}/", wait_until="load")
                while not page.evaluate("window.__bench.live"):
                    time.sleep(0.02)
                wall = time.monotonic() - began
                figures = page.evaluate(NAVIGATION)
                figures.update(live=page.evaluate("window.__bench.live"), wall=wall * 1000,
                               cells_at_live=page.evaluate("window.__bench.cellsAtLive"))
                loads.append(figures)
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            last = loads[-1]
            assert last["cells"] == args.learners * columns and last["rows"] == args.learners, last

            def median(field):
                return statistics.median(f[field] for f in loads)

            print(f"page load, median of {len(loads)} (navigation start ->): first byte {median('response'):.0f} ms, "
                  f"HTML in {median('html'):.0f} ms, DOMContentLoaded {median('dom'):.0f} ms, load event "
                  f"{median('load'):.0f} ms, socket live with all {last['cells_at_live']} cells "
                  f"{median('live'):.0f} ms (each: {', '.join(str(round(f['live'])) for f in loads)} ms; "
                  f"from Python: {median('wall'):.0f} ms)")
            print(f"HTML: {last['decoded'] / 1e6:.2f} MB ({last['bytes'] / 1e6:.2f} MB transferred)")
            print(f"DOM: {last['elements']} elements, {last['nodes']} nodes with text and comments, "
                  f"{last['rows']} learner rows, {last['cells']} cells")
            print(f"JS heap: used {metrics['JSHeapUsedSize'] / 1e6:.1f} MB of {metrics['JSHeapTotalSize'] / 1e6:.1f} MB"
                  f" (performance.memory: {last['heap'] / 1e6:.1f} MB)")
            print(f"Chromium, over the {len(loads)} loads: layout {metrics['LayoutDuration'] * 1000 / len(loads):.0f} ms"
                  f", style {metrics['RecalcStyleDuration'] * 1000 / len(loads):.0f} ms, script "
                  f"{metrics['ScriptDuration'] * 1000 / len(loads):.0f} ms per load")

            if args.screenshot:
                page.locator("#grid-h").evaluate("(h) => h.scrollIntoView()")
                page.screenshot(path=args.screenshot)
                print(f"screenshot: {args.screenshot}")

            delays, missed = [], []
            for sample in fresh:
                key = "|".join([sample["learner"], big_room.LIVE_LAB, big_room.LIVE_OBJECTIVE])
                answered = big_room.solve_over_http(server.url, sample)
                deadline = time.monotonic() + 10
                arrived = None
                while arrived is None and time.monotonic() < deadline:
                    arrived = page.evaluate("(key) => window.__bench.done[key] || null", key)
                    if arrived is None:
                        time.sleep(0.01)
                if arrived is None:
                    missed.append(sample["learner"])
                else:
                    delays.append(arrived / 1000 - answered)
                time.sleep(1)  # idle between samples: one event at a time
            if delays:
                print(f"call answered -> cell data-done=true in the page, {len(delays)} learners: "
                      f"p50 {ms(percentile(delays, 50))}, p99 {ms(percentile(delays, 99))}, "
                      f"max {ms(max(delays))}; missed (not within 10 s): {len(missed)}")

            keyboard = []
            page.locator("td.cell").first.click()  # the keys then scroll the grid's box
            for key in ["PageDown", "PageDown", "End", "Home", "PageDown", "ArrowDown", "ArrowDown", "Home"]:
                page.keyboard.press(key)
                time.sleep(0.3)
                keyboard = page.evaluate("window.__bench.frames")
            scrolls = page.evaluate(SCROLL)
            print(f"keyboard (PageDown, End, Home, ArrowDown: keydown -> the frame after): "
                  f"median {statistics.median(keyboard):.0f} ms, max {max(keyboard):.0f} ms over {len(keyboard)}")
            print(f"scroll (the grid right 600 px, back, down 2000 px, 8000 px, to the top; -> the frame after): "
                  f"{', '.join(f'{t:.0f}' for t in scrolls)} ms")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
