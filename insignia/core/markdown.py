"""Safe Markdown: user-written narratives (criteria, evidence, descriptions) rendered to HTML.

Markdown is parsed by markdown-it-py in CommonMark mode with raw HTML *off* (tags are shown as text),
plus tables and strikethrough. Images are not rendered (``![alt](url)`` stays a link: no remote
content loads from someone else's page). The HTML is then cleaned by nh3 against an allow-list, so
even a parser bug cannot let a script, an event handler or a ``javascript:`` link through. Links get
``rel="nofollow noopener noreferrer"``.

``render_markdown(text)`` returns a plain ``str``; ``markdown_html(text)`` the same marked safe for
Django templates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

#: The largest narrative rendered; longer input is cut (services refuse far less than this anyway).
MAX_MARKDOWN_CHARS = 100_000

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@lru_cache(maxsize=8)
def _parser(heading_offset: int) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    if heading_offset:
        def shift_heading(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
            token = tokens[idx]
            token.tag = f"h{min(6, int(token.tag[1]) + heading_offset)}"
            return renderer.renderToken(tokens, idx, options, env)

        md.add_render_rule("heading_open", shift_heading)
        md.add_render_rule("heading_close", shift_heading)
    return md


def render_markdown(text: str, *, heading_offset: int = 0) -> str:
    """Markdown → sanitised HTML. ``heading_offset=2`` turns ``#`` into ``<h3>`` (for use under a page's h2)."""
    if not text:
        return ""
    html = _parser(max(0, min(5, heading_offset))).render(text[:MAX_MARKDOWN_CHARS])
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def markdown_html(text: str, *, heading_offset: int = 0) -> SafeString:
    """``render_markdown`` marked safe for templates (it has been sanitised)."""
    return mark_safe(render_markdown(text, heading_offset=heading_offset))  # noqa: S308 (sanitised by nh3)
