"""The Content-Security-Policy: only kmslab's own scripts and styles, so an injected tag or handler does nothing.

It holds because kmslab writes none inline: no <script> without src, no <style>, no style="…", no onclick."""
import re

from django.test import Client

from .api.live import ROOT

INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def test_every_page_allows_only_the_sites_own_scripts_and_styles(transactional_db):
    for path in ("/", "/labs/", "/no-such-page/"):
        policy = Client().get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"


def test_no_template_has_inline_script_style_or_event_handler():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in (ROOT / "templates").rglob("*.html")
             for n, line in enumerate(path.read_text().splitlines(), 1) if INLINE.search(line)]
    assert found == []


def test_htmx_is_told_not_to_inject_its_indicator_styles(transactional_db):
    assert b'"includeIndicatorStyles": false' in Client().get("/").content
