"""Composing digests: what a digest is (:mod:`.digest`), which stories a subscriber gets
(:mod:`.build`) and how they look in Telegram (:mod:`.render`). Pure: the caller loads
candidates and delivers the result."""

from digests.composition.build import build_digest, build_many
from digests.composition.digest import (
    Digest,
    DigestItem,
    DigestRequest,
    Section,
    StoryCandidate,
    should_send,
)
from digests.composition.render import (
    html_to_text,
    render_digest,
    render_empty,
    safe_href,
    trim_text,
)

__all__ = [
    "Digest",
    "DigestItem",
    "DigestRequest",
    "Section",
    "StoryCandidate",
    "build_digest",
    "build_many",
    "html_to_text",
    "render_digest",
    "render_empty",
    "safe_href",
    "should_send",
    "trim_text",
]
