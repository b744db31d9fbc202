"""The one Telegram-safe output path: HTML checks, 4096-character split, inline keyboards.

Every reply, edit and scheduled message goes through here, so each one is valid HTML for
Telegram's parser, fits in one message (or is split at line breaks), and carries callback data
of at most 64 bytes. Photos and files go out here too, with a checked caption.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CALLBACK_DATA = 64  # bytes
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# Tags Telegram's HTML parse mode understands (and the attributes each may carry).
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")

Button = tuple[str, str]  # (label, callback data)
Rows = Sequence[Sequence[Button]]


class TelegramHtmlError(ValueError):
    """Text that Telegram's HTML parser would reject."""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise TelegramHtmlError(f"unsupported tag <{tag}>")
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                raise TelegramHtmlError(f"unsupported attribute {name!r} on <{tag}>")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing tag <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHtmlError(f"unexpected </{tag}>")
        self.stack.pop()


def check_html(text: str) -> None:
    """Raise TelegramHtmlError unless Telegram's HTML parse mode would accept `text`."""
    # A bare "&" or "<" is an error for Telegram; check them before the lenient stdlib parser.
    for match in re.finditer(r"&", text):
        if not _ENTITY.match(text, match.start()):
            raise TelegramHtmlError(f"bare '&' at {match.start()}")
    for match in re.finditer(r"<", text):
        if not re.match(r"</?[a-z][a-z-]*[\s>/]", text[match.start() :]):
            raise TelegramHtmlError(f"bare '<' at {match.start()}")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise TelegramHtmlError(f"unclosed <{checker.stack[-1]}>")


def visible_length(text: str) -> int:
    """Return the length Telegram counts: the text after entity parsing, in UTF-16 units."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    return len(plain.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split HTML text into messages under `limit`, at blank lines, then lines.

    Templates keep each tag on one line, so a split at a line break never cuts a tag in two.
    A single line longer than the limit (only possible with user-sized input) is cut hard
    after its tags are dropped.
    """
    text = text.strip()
    if visible_length(text) <= limit and len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if len(line) <= limit:
            current = line
        else:
            plain = html.escape(html.unescape(re.sub(r"<[^>]+>", "", line)), quote=False)
            while len(plain) > limit:
                cut = plain.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                while "&" in plain[max(0, cut - 8) : cut] and plain.rfind(
                    "&", 0, cut
                ) > plain.rfind(";", 0, cut):
                    cut -= 1  # never cut an entity like &amp; in two
                parts.append(plain[:cut])
                plain = plain[cut:].lstrip()
            current = plain
    if current:
        parts.append(current)
    return [p.strip("\n") for p in parts if p.strip()]


def keyboard(rows: Rows) -> InlineKeyboardMarkup:
    """Build an inline keyboard; each callback data must fit Telegram's 64 bytes."""
    built = []
    for row in rows:
        built_row = []
        for label, data in row:
            if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                raise ValueError(f"callback data over 64 bytes: {data!r}")
            built_row.append(InlineKeyboardButton(label, callback_data=data))
        built.append(built_row)
    return InlineKeyboardMarkup(built)


async def reply(message: Message, text: str, rows: Rows | None = None) -> Message:
    """Send HTML `text` to the chat of `message`; long text is split, buttons go on the last."""
    parts = split_message(text) or ["…"]
    markup = keyboard(rows) if rows else None
    sent = message
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await message.get_bot().send_message(
            chat_id=message.chat_id,
            text=part,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if last else None,
            link_preview_options=NO_PREVIEW,
        )
    return sent


async def edit(query: CallbackQuery, text: str, rows: Rows | None = None) -> None:
    """Replace a button message's text in place (or send a new one when it can't be edited)."""
    parts = split_message(text) or ["…"]
    markup = keyboard(rows) if rows else None
    message = query.message
    # A photo or a document has a caption, not a text: answer it with a new message.
    if len(parts) > 1 or not isinstance(message, Message) or message.effective_attachment:
        if isinstance(message, Message):
            await reply(message, text, rows)
        return
    try:
        await query.edit_message_text(
            parts[0],
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        reason = str(exc).lower()
        if "no text in the message" in reason:  # a file message after all
            await reply(message, text, rows)
        # Pressing the same button twice asks for an identical edit; Telegram refuses it.
        elif "not modified" not in reason:
            raise


MAX_CAPTION = MessageLimit.CAPTION_LENGTH  # 1024


def check_caption(caption: str) -> str:
    """Return a caption that Telegram accepts: valid HTML, at most 1024 visible characters.

    Captions are short by design (a chart's figures, a file's name); one that does not fit is
    a bug in the caller, so it raises instead of being cut.
    """
    caption = caption.strip()
    check_html(caption)
    if visible_length(caption) > MAX_CAPTION:
        raise ValueError(f"caption over {MAX_CAPTION} characters")
    return caption


async def reply_photo(
    message: Message, png: bytes, filename: str, caption: str, rows: Rows | None = None
) -> Message:
    """Send an image to the chat of `message` with an HTML caption (and buttons)."""
    return await message.get_bot().send_photo(
        chat_id=message.chat_id,
        photo=InputFile(png, filename=filename),
        caption=check_caption(caption),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rows) if rows else None,
    )


async def reply_document(
    message: Message, data: bytes, filename: str, caption: str, rows: Rows | None = None
) -> Message:
    """Send a file to the chat of `message` with an HTML caption (and buttons)."""
    return await message.get_bot().send_document(
        chat_id=message.chat_id,
        document=InputFile(data, filename=filename),
        caption=check_caption(caption),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rows) if rows else None,
    )
