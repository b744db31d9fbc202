from __future__ import annotations

import html
import itertools

import pytest

from bot.console.fake_api import strip_html
from bot.content import Content
from bot.handlers.knowledge import (
    cited_by_group,
    group_page,
    interactions_index,
    medicine_page,
)
from bot.render import MAX_TEXT, visible_length
from tests.support.chat import Chat
from tests.support.fake_request import FakeRequest

DISCLAIMER = "not medical advice"


def shown(chat: Chat, message_id: int) -> str:
    """The text of one of the bot's messages as a person sees it now (after edits)."""
    return strip_html(chat.fake.api.messages[(chat.user_id, message_id)].text)


def every_message_fits(fake: FakeRequest) -> None:
    for params in fake.sent():
        assert visible_length(str(params["text"])) <= MAX_TEXT


# --- /symptoms -------------------------------------------------------------------------------


async def test_symptoms_lists_every_section_with_sources_and_the_footer(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    reply = await chat.send("/symptoms")
    for section in content.symptoms:
        assert section.title in reply
        for item in section.items:
            assert item.text in reply
    titles = [s.title for s in content.symptoms]
    assert {"Early signs", "As it gets worse", "Who is more at risk", "Get medical help"} <= set(
        titles
    )
    assert "Source: NIH ODS health professional fact sheet" in reply
    assert reply.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
    assert DISCLAIMER in reply
    every_message_fits(fake)


async def test_symptoms_menu_button(chat: Chat, fake: FakeRequest) -> None:
    await chat.send("/start")
    await chat.press("menu:symptoms")
    assert "Early signs" in "\n".join(fake.sent_texts())
    assert DISCLAIMER in fake.last_text()


# --- /fact -----------------------------------------------------------------------------------


async def test_fact_shows_a_sourced_fact_and_another_button(chat: Chat, content: Content) -> None:
    reply = await chat.send("/fact")
    fact = next(f for f in content.facts if f.text in reply)
    assert f"Source: {content.source_names(fact)}" in reply
    assert chat.buttons() == [("🔄 Another fact", "fact:next")]


async def test_another_fact_edits_in_place_and_never_repeats_at_once(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/fact")
    message_id = chat.last_message_id()
    seen = [next(f.id for f in content.facts if f.text in shown(chat, message_id))]
    for _ in range(25):
        await chat.press("fact:next", message_id)
        seen.append(next(f.id for f in content.facts if f.text in shown(chat, message_id)))
    assert all(a != b for a, b in itertools.pairwise(seen))
    assert len(set(seen)) > 3
    assert len(fake.sent()) == 1  # every press edited the same message
    assert len(fake.of("answerCallbackQuery")) == 25


async def test_fact_menu_button(chat: Chat, fake: FakeRequest, content: Content) -> None:
    await chat.send("/start")
    await chat.press("menu:fact")
    assert any(f.text in fake.last_text() for f in content.facts)


# --- /supplements ----------------------------------------------------------------------------


async def test_supplements_compares_forms_and_gives_the_upper_limit(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    reply = await chat.send("/supplements")
    for form in content.supplements.forms:
        assert form.name in reply
        assert form.absorption in reply
        assert form.common_use in reply
        if form.note:
            assert form.note in reply
    assert "Adults 19 and older: at most 350 mg a day." in reply
    assert content.supplements.ul_covers.text in reply
    assert "Children 1-3 years: 65 mg a day" in reply
    assert "Food and Nutrition Board UL (via Nutri-Facts)" in reply
    assert reply.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
    every_message_fits(fake)


async def test_supplements_menu_button(chat: Chat, fake: FakeRequest) -> None:
    await chat.send("/start")
    await chat.press("menu:supplements")
    assert "350 mg a day" in "\n".join(fake.sent_texts())
    assert DISCLAIMER in fake.last_text()


# --- /interactions ---------------------------------------------------------------------------


async def test_interactions_give_medicines_effects_timing_and_sources(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    reply = await chat.send("/interactions")
    for group in content.interaction_groups:
        assert group.title in reply
    for item in content.interactions:
        assert item.name in reply  # the index names every medicine, by group
    assert reply.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
    message_id = chat.last_message_id()
    pages = ""
    for group in content.interaction_groups:
        await chat.press(f"int:group:{group.id}", message_id)
        page = shown(chat, message_id)
        assert page.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
        assert chat.buttons() == [("◀ All medicines", "int:index")]
        pages += page
    for item in content.interactions:
        assert item.drug_class in pages
        assert item.examples in pages
        assert item.effect in pages
        assert item.timing in pages
        assert content.source_names(item) in pages
    assert "at least 2 hours before or 4 to 6 hours after" in pages
    assert len(fake.sent()) == 1  # every page opened in place
    every_message_fits(fake)


async def test_the_interactions_index_has_a_button_per_group(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/interactions")
    data = [d for _, d in chat.buttons()]
    assert data == [f"int:group:{g.id}" for g in content.interaction_groups]
    assert all(len(d.encode()) <= 64 for d in data)
    message_id = chat.last_message_id()
    await chat.press("int:group:hiv", message_id)
    await chat.press("int:index", message_id)
    assert "Tap a group" in shown(chat, message_id)
    await chat.press("int:group:no_such_group", message_id)  # a stale button
    assert "Tap a group" in shown(chat, message_id)


@pytest.mark.parametrize(
    ("command", "drug_class"),
    [
        ("/interactions levothyroxine", "Thyroid hormone tablets"),
        ("/interactions Synthroid", "Thyroid hormone tablets"),
        ("/interactions fosamax", "Bisphosphonates (osteoporosis tablets)"),
        ("/interactions alendronat", "Bisphosphonates (osteoporosis tablets)"),
        ("/interactions Biktarvy", "HIV medicine: bictegravir"),
        ("/interactions gabapentin", "Gabapentin"),
        ("/interactions spironolactone", "Potassium-sparing diuretics"),
        ("/interactions cipro", "Antibiotics: tetracyclines and quinolones"),
        ("/interactions nexium", "Proton pump inhibitors"),
        ("/interactions milk of magnesia", "Laxatives and antacids that contain magnesium"),
    ],
)
async def test_interactions_for_one_medicine(chat: Chat, command: str, drug_class: str) -> None:
    reply = await chat.send(command)
    assert reply.startswith(drug_class)
    assert "Timing:" in reply
    assert "Source: " in reply
    assert reply.rstrip().endswith("Ask a doctor or pharmacist about your own situation.")
    assert ("◀ All medicines", "int:index") in chat.buttons()


async def test_bisphosphonates_lead_with_the_two_hour_gap_then_the_label_rule(
    content: Content,
) -> None:
    item = next(i for i in content.interactions if i.id == "bisphosphonates")
    first, second, *_ = item.timing.split(". ")
    assert "bisphosphonate first" in first
    assert "at least 2 hours later" in first
    assert "30 minutes" in second
    assert "plain water" in second


async def test_an_ambiguous_medicine_name_asks_which(chat: Chat, fake: FakeRequest) -> None:
    reply = await chat.send("/interactions diuretic")
    assert "Which one do you mean?" in reply
    data = [d for _, d in chat.buttons()]
    assert data[:2] == ["int:show:loop_thiazide_diuretics", "int:show:potassium_sparing_diuretics"]
    message_id = chat.last_message_id()
    await chat.press("int:show:potassium_sparing_diuretics", message_id)
    text = shown(chat, message_id)
    assert "amiloride, spironolactone" in text
    assert "kidney disease" in text
    assert ("🫀 Heart and water pills", "int:group:heart") in chat.buttons()
    await chat.press("int:show:gone", message_id)  # a stale button shows the index
    assert "Tap a group" in shown(chat, message_id)


async def test_an_unknown_medicine_is_not_called_safe(chat: Chat, content: Content) -> None:
    reply = await chat.send("/interactions lisinopril")
    assert "I have no entry for “lisinopril”" in reply
    assert "does not mean it is safe" in reply
    assert "ask your pharmacist" in reply
    assert [d for _, d in chat.buttons()] == [
        f"int:group:{g.id}" for g in content.interaction_groups
    ]
    reply = await chat.send("/interactions <b>x</b>")
    assert "<b>x</b>" in reply  # shown as typed, escaped


def test_every_interactions_page_fits_in_one_message(content: Content) -> None:
    # A page opens in place (one edited message), so it must not need splitting.
    pages = [interactions_index(content)[0]]
    pages += [group_page(content, g.id)[0] for g in content.interaction_groups]
    pages += [medicine_page(content, item)[0] for item in content.interactions]
    for page in pages:
        assert visible_length(page) <= MAX_TEXT
        assert len(page) <= MAX_TEXT


def test_no_internal_notes_reach_users(content: Content) -> None:
    for item in content.interactions:
        values = " ".join([item.drug_class, item.examples, item.effect, item.timing]).lower()
        for note in ("our sources", "no example", "fact base", "not yet checked", "todo"):
            assert note not in values, item.id
    assert "EGFR antagonists" not in " ".join(i.examples for i in content.interactions)


# --- /faq ------------------------------------------------------------------------------------


async def test_faq_lists_questions_as_buttons(chat: Chat, content: Content) -> None:
    reply = await chat.send("/faq")
    assert "Common questions" in reply
    assert chat.buttons() == [(q.question, f"faq:{q.id}") for q in content.faq]


async def test_faq_answer_opens_in_place_with_sources_footer_and_back(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    await chat.send("/faq")
    message_id = chat.last_message_id()
    question = next(q for q in content.faq if q.id == "upper_limit")
    await chat.press(f"faq:{question.id}", message_id)
    text = shown(chat, message_id)
    assert question.question in text
    assert question.answer in text
    assert f"Source: {content.source_names(question)}" in text
    assert DISCLAIMER in text
    assert chat.buttons() == [("◀ Back to questions", "faq:list")]

    await chat.press("faq:list", message_id)
    assert "Tap a question" in shown(chat, message_id)
    assert len(chat.buttons()) == len(content.faq)
    assert len(fake.sent()) == 1


async def test_every_faq_answer_renders(chat: Chat, content: Content) -> None:
    await chat.send("/faq")
    message_id = chat.last_message_id()
    for question in content.faq:
        await chat.press(f"faq:{question.id}", message_id)
        assert question.answer in shown(chat, message_id)


async def test_a_removed_question_shows_the_list_again(chat: Chat) -> None:
    await chat.send("/faq")
    message_id = chat.last_message_id()
    await chat.press("faq:gone_question", message_id)
    assert "no longer here" in shown(chat, message_id)


# --- /sources --------------------------------------------------------------------------------


async def test_sources_links_every_source_in_groups(
    chat: Chat, fake: FakeRequest, content: Content
) -> None:
    reply = await chat.send("/sources")
    sent_html = "\n".join(str(p["text"]) for p in fake.sent())
    for source in content.sources.values():
        assert source.name in reply
        assert f'<a href="{html.escape(source.url, quote=False)}">' in sent_html
    assert "Main references" in reply
    assert "Medicines" in reply
    every_message_fits(fake)


def test_sources_are_grouped_once_each(content: Content) -> None:
    groups = cited_by_group(content)
    listed = [s for _, ids in groups for s in ids]
    assert sorted(listed) == sorted(content.sources)
    main = dict(groups)["sources.group_main"]
    assert "ods_hp" in main
    assert "ods_consumer" in main
    assert "smpc_uk" in dict(groups)["sources.group_interactions"]
