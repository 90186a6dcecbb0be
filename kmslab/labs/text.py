"""A lab's Markdown as HTML: CommonMark (markdown-it-py), then sanitised (nh3).

The catalogue is trusted, but what reaches a page is cleaned anyway: a lab
file is data, and a slip in one must not become script in a learner's browser.
"""
from functools import lru_cache

import nh3
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False})
TAGS = {"p", "code", "pre", "em", "strong", "a", "ul", "ol", "li", "blockquote", "h3", "h4", "br", "hr"}


@lru_cache(maxsize=512)
def html(text):
    return mark_safe(nh3.clean(_markdown.render(text), tags=TAGS, attributes={"a": {"href"}},
                               url_schemes={"https", "http"}, link_rel="noopener noreferrer"))
