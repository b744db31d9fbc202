"""The in-process fake Bot API takes photos and documents the way Telegram does, and refuses
what Telegram refuses."""

from __future__ import annotations

import pytest
from telegram import InputFile, Message
from telegram.error import BadRequest

from bot.console.fake_api import UploadedFile, image_size
from bot.context import BotApp
from bot.render import reply_document, reply_photo
from tests.support.fake_request import FakeRequest
from tests.support.updates import message_update

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5d2c8d20000000049454e44ae426082"
)


def message(app: BotApp) -> Message:
    update = message_update(app.bot, "/week")
    assert update.effective_message is not None
    return update.effective_message


async def test_a_photo_is_uploaded_as_multipart_and_kept_with_its_caption(
    app: BotApp, fake: FakeRequest
) -> None:
    sent = await reply_photo(message(app), PNG_1x1, "chart.png", "📊 <b>Week</b> &amp; more")
    assert sent.photo[-1].width == 1
    assert sent.caption == "📊 Week & more"
    [params] = fake.files("sendPhoto")
    assert params["photo"] == UploadedFile("chart.png", PNG_1x1, "image/png")
    stored = fake.api.messages[(sent.chat_id, sent.message_id)]
    assert (stored.media, stored.text) == ("photo", "📊 <b>Week</b> &amp; more")


async def test_a_document_keeps_its_name_and_bytes(app: BotApp, fake: FakeRequest) -> None:
    sent = await reply_document(message(app), b'{"a": 1}\n', "my-data.json", "Your data")
    assert sent.document is not None
    assert sent.document.file_name == "my-data.json"
    [params] = fake.files("sendDocument")
    assert params["document"].data == b'{"a": 1}\n'


async def test_what_telegram_refuses_is_refused(app: BotApp, fake: FakeRequest) -> None:
    chat = message(app).chat_id
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await app.bot.send_photo(chat, InputFile(b"not an image", filename="x.png"))
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_photo(chat, InputFile(PNG_1x1, filename="x.png"), caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_document(
            chat, InputFile(b"x", filename="x.txt"), caption="<b>open", parse_mode="HTML"
        )
    sent = await app.bot.send_photo(chat, InputFile(PNG_1x1, filename="x.png"))
    with pytest.raises(BadRequest, match=r"(?i)no text in the message to edit"):
        await app.bot.edit_message_text("new", chat_id=chat, message_id=sent.message_id)


def test_our_own_captions_are_checked_before_sending() -> None:
    from bot.render import check_caption

    assert check_caption("  <b>ok</b>  ") == "<b>ok</b>"
    with pytest.raises(ValueError, match="1024"):
        check_caption("x" * 1025)


def test_image_size_reads_png_headers() -> None:
    assert image_size(PNG_1x1) == (1, 1)
    assert image_size(b"\xff\xd8\xff\xe0rest") == (0, 0)
    assert image_size(b"GIF89a") is None
