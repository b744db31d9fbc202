from __future__ import annotations

import pytest

from bot.content import Content
from tests.support.chat import Chat

FOOTER = "not medical advice. Ask a doctor or pharmacist"
EXAMPLES = "/intake 35 f, /intake 16 m, /intake pregnant 30"


async def test_intake_alone_shows_the_table(chat: Chat, content: Content) -> None:
    reply = await chat.send("/intake")
    for row in content.rda:
        assert row.label in reply
    assert "• Birth to 6 months: 30 mg (AI)" in reply
    assert "• 31-50 years: male 420 mg, female 320 mg (RDA)" in reply
    assert "pregnant 360 mg, breastfeeding 320 mg" in reply
    assert EXAMPLES in reply
    assert "Source: NIH ODS consumer fact sheet" in reply
    assert FOOTER in reply


@pytest.mark.parametrize(
    ("command", "who", "amount", "limit"),
    [
        ("/intake 35 f", "Female, 35 years", "(RDA): 320 mg a day", "350 mg a day"),
        ("/intake f 35", "Female, 35 years", "(RDA): 320 mg a day", "350 mg a day"),
        ("/intake 16 m", "Male, 16 years", "(RDA): 410 mg a day", "350 mg a day"),
        ("/intake pregnant 30", "Pregnant, 30 years", "(RDA): 350 mg a day", "350 mg a day"),
        ("/intake lactating 25", "Breastfeeding, 25 years", "310 mg a day", "350 mg a day"),
        ("/intake 2", "Age 2 years", "(RDA): 80 mg a day", "65 mg a day"),
        ("/rda 35 f", "Female, 35 years", "320 mg a day", "350 mg a day"),
    ],
)
async def test_intake_for_one_person(
    chat: Chat, command: str, who: str, amount: str, limit: str
) -> None:
    reply = await chat.send(command)
    assert reply.startswith(who)
    assert amount in reply
    assert f"Upper limit for magnesium from supplements: {limit}" in reply
    assert "Source: " in reply
    assert FOOTER in reply


async def test_intake_for_a_baby_gives_the_adequate_intake(chat: Chat) -> None:
    reply = await chat.send("/intake 5 months")
    assert reply.startswith("Age 5 months")
    assert "Adequate Intake (AI): 30 mg a day (age group Birth to 6 months)" in reply
    assert "Babies under 1 year: not set" in reply
    assert FOOTER in reply


@pytest.mark.parametrize(
    ("command", "who", "group"),
    [
        ("/intake 6 months", "Age 6 months", "30 mg a day (age group Birth to 6 months)"),
        ("/intake 7 months", "Age 7 months", "75 mg a day (age group 7-12 months)"),
        ("/intake 11 months", "Age 11 months", "75 mg a day (age group 7-12 months)"),
        ("/intake 12 months", "Age 1 year", "80 mg a day (age group 1-3 years)"),
    ],
)
async def test_infant_boundaries(chat: Chat, command: str, who: str, group: str) -> None:
    reply = await chat.send(command)
    assert reply.startswith(who)
    assert group in reply


async def test_intake_without_a_sex_gives_both_figures_for_adults(chat: Chat) -> None:
    reply = await chat.send("/intake 35")
    assert "420 mg a day for males, 320 mg a day for females" in reply
    assert "/intake 35 f" in reply


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/intake 200 x", "I couldn't read “200 x”"),
        ("/intake 200", "isn't an age I can use"),
        ("/intake pregnant 8", "pregnancy figures for ages 14 to 50 only"),
        ("/intake lactating 60", "breastfeeding figures for ages 14 to 50 only"),
        ("/intake pregnant m 30", "figures are for women"),
        ("/intake f", "depends on age"),
        ("/intake <b>", "I couldn't read “<b>”"),
        ("/intake -1", "“-1” isn't an age I can use"),
        ("/intake -5 f", "“-5 f” isn't an age I can use"),
        ("/intake 130", "“130” isn't an age I can use"),
    ],
)
async def test_invalid_intake_gets_a_friendly_message_with_examples(
    chat: Chat, command: str, says: str
) -> None:
    reply = await chat.send(command)
    assert says in reply
    assert EXAMPLES in reply
    assert "went wrong" not in reply
