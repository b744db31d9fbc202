"""Helpers the content features share: plain button labels, and long answers sent in parts.

`Texts.get` escapes values for HTML, so "Dairy & soy" would show as "Dairy &amp; soy" on a
button; `plain` undoes that for labels only. `send_blocks` packs whole blocks (a symptom
section, one supplement form) into messages under Telegram's limit, so no block is cut in two,
and ends each message with the same footer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from telegram import Message

from bot.content import Content, Sourced
from bot.render import MAX_TEXT, Rows, reply

PART_LIMIT = MAX_TEXT - 96  # room to spare: the limit counts what is left after HTML parsing


def plain(filled: str) -> str:
    """Turn a filled button-label template back into plain text (labels are not HTML)."""
    return html.unescape(filled)


def unique(names: Sequence[str]) -> list[str]:
    """Return names without repeats, first occurrence first."""
    return list(dict.fromkeys(names))


def sources_of(content: Content, items: Iterable[Sourced], extra: Iterable[str] = ()) -> str:
    """Return the names of every source behind `items` (and `extra` ids), each once."""
    ids = unique([*(s for item in items for s in item.source), *extra])
    return "; ".join(content.sources[s].name for s in ids)


def pack(blocks: Sequence[str], limit: int = PART_LIMIT) -> list[str]:
    """Join blocks with blank lines into as few parts as fit under `limit` characters each."""
    parts: list[str] = []
    current = ""
    for block in (b.strip("\n") for b in blocks):
        if not block:
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if current and len(candidate) > limit:
            parts.append(current)
            current = block
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


async def send_blocks(
    message: Message, blocks: Sequence[str], rows: Rows | None = None, footer: str = ""
) -> None:
    """Send blocks as one message, or several when they don't fit; buttons go on the last.

    `footer` (the health disclaimer) ends every message, not only the last one: a person may
    read just one part of a long answer.
    """
    parts = pack(blocks, PART_LIMIT - len(footer) - 2) if footer else pack(blocks)
    for index, part in enumerate(parts):
        text = f"{part}\n\n{footer}" if footer else part
        await reply(message, text, rows if index == len(parts) - 1 else None)
