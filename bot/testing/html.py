"""Telegram-compatible HTML ``parse_mode`` parser.

The algorithm and error texts follow tdlib's ``parse_html`` (the code behind the Bot API),
so a bot that passes here should pass on the real server and vice versa. One deliberate
difference: in ``strict`` mode an ``&`` that does not start a known entity is an error,
while Telegram silently shows it literally. That leniency hides missing ``html.escape``
calls (a news title with ``&lt;`` in it would be rendered as ``<``), so tests want it loud.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "EntityParseError",
    "ParsedText",
    "parse_html",
    "trim_text",
    "utf16_len",
    "utf16_slice",
]

_ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib's is_space(): '\0' is included because its loops run on a NUL-terminated string.
_SPACES = frozenset(" \t\r\n\0\v")
_END = "\0"


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is Telegram's reason."""


@dataclass(frozen=True, slots=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram measures text and entity offsets this way."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring covered by an entity given in UTF-16 offsets."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


class _Parser:
    def __init__(self, source: str, *, strict: bool) -> None:
        self.src = source
        self.strict = strict
        # Byte offsets in error messages are in UTF-8, like tdlib's.
        self._byte_offsets: list[int] = []
        total = 0
        for ch in source:
            self._byte_offsets.append(total)
            total += len(ch.encode("utf-8", errors="surrogatepass"))
        self._byte_offsets.append(total)

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else _END

    def byte(self, i: int) -> int:
        return self._byte_offsets[min(i, len(self.src))]

    def fail(self, reason: str) -> EntityParseError:
        return EntityParseError(reason)

    def decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Decode an HTML entity at ``pos`` (which is '&'); return (char, next_pos)."""
        src = self.src
        end = pos + 1
        if self.at(end) == "#":
            end += 1
            value = 0
            digits = 0
            if self.at(end) == "x":
                end += 1
                while self.at(end) in "0123456789abcdefABCDEF" and self.at(end) != _END:
                    value = value * 16 + int(src[end], 16)
                    end += 1
                    digits += 1
                    if value >= 0x10FFFF:
                        return None
            else:
                while self.at(end).isascii() and self.at(end).isdigit():
                    value = value * 10 + int(src[end])
                    end += 1
                    digits += 1
                    if value >= 0x10FFFF:
                        return None
            if digits == 0 or value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
                return None
            char = chr(value)
        else:
            while self.at(end).isascii() and self.at(end).isalpha():
                end += 1
            name = src[pos + 1 : end]
            if name not in _NAMED_ENTITIES:
                return None
            char = _NAMED_ENTITIES[name]
        if self.at(end) == ";":
            end += 1
        return char, end

    def bad_ampersand(self, pos: int) -> EntityParseError:
        end = pos + 1
        while self.at(end) not in _SPACES and self.at(end) not in "<&;" and end - pos < 12:
            end += 1
        if self.at(end) == ";":
            end += 1
        fragment = self.src[pos:end]
        if len(fragment) > 1:
            return self.fail(
                f'Unsupported HTML entity "{fragment}" at byte offset {self.byte(pos)}'
            )
        return self.fail(
            f'Character "&" at byte offset {self.byte(pos)} must be escaped as "&amp;"'
        )

    def parse(self) -> ParsedText:
        src = self.src
        out: list[str] = []
        utf16_offset = 0
        # (tag name, argument, utf16 offset, index into ``out``)
        stack: list[tuple[str, str, int, int]] = []
        entities: list[dict[str, Any]] = []
        i = 0
        n = len(src)
        while i < n:
            c = src[i]
            if c == "&":
                decoded = self.decode_entity(i)
                if decoded is not None:
                    char, i = decoded
                    out.append(char)
                    utf16_offset += utf16_len(char)
                    continue
                if self.strict:
                    raise self.bad_ampersand(i)
            if c != "<":
                out.append(c)
                utf16_offset += utf16_len(c)
                i += 1
                continue

            begin = i
            i += 1
            if self.at(i) != "/":
                i = self._start_tag(begin, i, stack, utf16_offset, len(out))
            else:
                i = self._end_tag(begin, i, stack, entities, utf16_offset, out)
            i += 1  # skip '>'

        if stack:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
        entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(out), entities)

    def _start_tag(
        self,
        begin: int,
        i: int,
        stack: list[tuple[str, str, int, int]],
        utf16_offset: int,
        out_len: int,
    ) -> int:
        src = self.src
        while self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        if self.at(i) == _END:
            raise self.fail(f"Unclosed start tag at byte offset {self.byte(begin)}")
        tag = src[begin + 1 : i].lower()
        if tag not in _ALLOWED_TAGS:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {self.byte(begin)}')
        argument = ""
        while self.at(i) != ">":
            while self.at(i) != _END and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == ">":
                break
            attr_begin = i
            while self.at(i) not in _SPACES and self.at(i) not in "=>":
                i += 1
            attr_name = src[attr_begin:i].lower()
            if not attr_name:
                raise self.fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte(begin)}'
                )
            while self.at(i) != _END and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                    continue
                if self.at(i) == _END:
                    raise self.fail(f"Unclosed start tag at byte offset {self.byte(begin)}")
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self.byte(begin)}"
                )
            i += 1
            while self.at(i) != _END and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == _END:
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {self.byte(begin)}')
            value_chars: list[str] = []
            quote = self.at(i)
            if quote not in "'\"":
                token_begin = i
                while self.at(i) != _END and (self.at(i).isalnum() or self.at(i) in ".-"):
                    i += 1
                value = src[token_begin:i].lower()
                if self.at(i) not in _SPACES and self.at(i) != ">":
                    raise self.fail(
                        f"Unexpected end of name token at byte offset {self.byte(token_begin)}"
                    )
            else:
                i += 1
                while self.at(i) != quote and self.at(i) != _END:
                    if self.at(i) == "&":
                        decoded = self.decode_entity(i)
                        if decoded is not None:
                            value_chars.append(decoded[0])
                            i = decoded[1]
                            continue
                        if self.strict:
                            raise self.bad_ampersand(i)
                    value_chars.append(src[i])
                    i += 1
                if self.at(i) == quote:
                    i += 1
                value = "".join(value_chars)
            if self.at(i) == _END:
                raise self.fail(f"Unclosed start tag at byte offset {self.byte(begin)}")

            if (tag == "a" and attr_name == "href") or (
                tag == "tg-emoji" and attr_name == "emoji-id"
            ):
                argument = value
            elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "blockquote" and attr_name == "expandable":
                argument = "1"

        if tag == "span" and argument != "spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte(begin)}'
            )
        stack.append((tag, argument, utf16_offset, out_len))
        return i

    def _end_tag(
        self,
        begin: int,
        i: int,
        stack: list[tuple[str, str, int, int]],
        entities: list[dict[str, Any]],
        utf16_offset: int,
        out: list[str],
    ) -> int:
        if not stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte(begin)}")
        while self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        end_name = self.src[begin + 2 : i].lower()
        while self.at(i) != _END and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.byte(begin)}")
        tag, argument, offset, out_index = stack.pop()
        if end_name and end_name != tag:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.byte(begin)}, "
                f'expected "</{tag}>", found "</{end_name}>"'
            )
        length = utf16_offset - offset
        if length <= 0:
            return i
        entity: dict[str, Any] | None = None
        if tag in _SIMPLE_TAGS:
            entity = {"type": _SIMPLE_TAGS[tag], "offset": offset, "length": length}
        elif tag == "a":
            url = _normalize_url(argument or "".join(out[out_index:]))
            if url is not None:
                entity = {"type": "text_link", "offset": offset, "length": length, "url": url}
        elif tag == "code":
            entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                # <code class="language-x"> only matters inside <pre>; remember it for later.
                entity["_language"] = argument
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last
                and last["type"] == "code"
                and (last["offset"], last["length"])
                == (
                    offset,
                    length,
                )
            ):
                language = last.pop("_language", None)
                last["type"] = "pre"
                if language:
                    last["language"] = language
            else:
                entity = {"type": "pre", "offset": offset, "length": length}
        elif tag == "tg-emoji":
            entity = {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument else "blockquote"
            entity = {"type": kind, "offset": offset, "length": length}
        if entity is not None:
            entities.append(entity)
        return i


def _normalize_url(url: str) -> str | None:
    """Mimic Telegram's link checks: invalid hrefs silently lose the entity."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if url.startswith("tg://"):
        return url
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https", "ftp", "tonsite"} or not parts.hostname:
        return None
    if not parts.path:
        # Telegram canonicalises "https://example.com" to "https://example.com/".
        url = urlunsplit(parts._replace(path="/"))
    return url


def parse_html(text: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML into plain text + Bot API entity dicts.

    Raises ``EntityParseError`` with Telegram's reason for invalid markup.
    """
    parsed = _Parser(text, strict=strict).parse()
    for entity in parsed.entities:
        entity.pop("_language", None)
    return parsed


_TRIM = " \t\r\n"


def trim_text(text: str, entities: list[dict[str, Any]]) -> ParsedText:
    """Strip surrounding whitespace and clip entities, as Telegram does before sending."""
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    total = utf16_len(result)
    clipped: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] - shift + entity["length"], total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    clipped.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(result, clipped)
