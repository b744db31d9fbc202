"""Every health message ends with the ask-a-doctor-or-pharmacist line, whichever path sends it.

Tips and facts are marked "health" or "general" in their files. Health ones carry the line in
/fact, /tip, "another tip" and the daily tip; general ones don't. Answers sent in several
messages (/symptoms, /supplements) carry it in every message.
"""

from __future__ import annotations

import pytest

from bot.console.fake_api import strip_html
from bot.content import Content
from bot.delivery.messages import tip_message
from bot.handlers.pieces import PART_LIMIT, pack
from tests.support.chat import Chat
from tests.support.fake_request import FakeRequest

LINE = "This is general information, not medical advice. Ask a doctor or pharmacist"
MAX_PRESSES = 2000  # /fact is random: enough presses to see all ~30 facts, with room to spare


def test_tips_and_facts_are_marked_and_most_are_health(content: Content) -> None:
    for tip in content.tips:
        assert tip.kind in ("health", "general"), tip.id
    for fact in content.facts:
        assert fact.kind in ("health", "general"), fact.id
    # Tips and facts on medicines, doses, symptoms and research are health items.
    for tip_id in ("t29", "t49", "t53", "t56", "t58", "t59", "t63", "t64", "t65", "t70", "t75"):
        assert next(t for t in content.tips if t.id == tip_id).health, tip_id
    for fact_id in ("f09", "f18", "f21", "f24", "f28", "f30"):
        assert next(f for f in content.facts if f.id == fact_id).health, fact_id
    assert not next(t for t in content.tips if t.id == "t01").health  # pumpkin seeds


def test_the_daily_tip_carries_the_line_for_every_health_tip(content: Content) -> None:
    for tip in content.tips:
        message = tip_message(content, tip.id)
        assert message is not None
        text = strip_html(message.text)
        assert (LINE in text) == tip.health, tip.id
        if tip.health:
            assert text.rstrip().endswith("about your own situation."), tip.id


async def test_tip_and_another_tip_carry_the_line_for_every_health_tip(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    by_text = {tip.text: tip for tip in content.tips}
    await chat.send("/tip")
    for _ in range(len(content.tips) - 1):
        await chat.press("tip:next")
    texts = [strip_html(str(p["text"])) for p in fake.sent()]
    seen = set()
    for text in texts:
        tip = next(t for body, t in by_text.items() if body in text)
        seen.add(tip.id)
        assert (LINE in text) == tip.health, tip.id
    assert seen == {tip.id for tip in content.tips}


async def test_fact_carries_the_line_for_every_health_fact(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/fact")
    message_id = chat.last_message_id()
    seen: set[str] = set()
    for _ in range(MAX_PRESSES):
        text = strip_html(chat.fake.api.messages[(chat.user_id, message_id)].text)
        fact = next(f for f in content.facts if f.text in text)
        assert (LINE in text) == fact.health, fact.id
        seen.add(fact.id)
        if len(seen) == len(content.facts):
            break
        await chat.press("fact:next", message_id)
    assert seen == {fact.id for fact in content.facts}


@pytest.mark.parametrize("command", ["/symptoms", "/supplements", "/interactions", "/intake"])
async def test_every_message_of_a_health_answer_ends_with_the_line(
    chat: Chat, fake: FakeRequest, command: str
) -> None:
    await chat.send(command)
    sent = [strip_html(str(p["text"])) for p in fake.sent()]
    assert sent
    for text in sent:
        assert text.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
        assert "source" in text.lower()


async def test_a_long_answer_split_in_parts_repeats_the_footer(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    # /supplements does not fit in one message: each part ends with the line.
    reply = await chat.send("/supplements")
    assert len(fake.sent()) >= 2
    assert reply.count(LINE) == len(fake.sent())


def test_pack_leaves_room_for_the_footer() -> None:
    blocks = ["x" * 1000] * 9
    footer = "y" * 300
    parts = pack(blocks, PART_LIMIT - len(footer) - 2)
    assert all(len(f"{part}\n\n{footer}") <= PART_LIMIT for part in parts)
