from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, select

from bot.console.fake_api import UploadedFile
from bot.context import BotApp, deps_of
from bot.db.models import Base
from bot.domain.vocabulary import QuestionKind
from bot.services import questions
from tests.handlers.test_diary import deliver_reminder
from tests.support.chat import Chat
from tests.support.clock import FakeClock
from tests.support.fake_request import FakeRequest
from tests.support.updates import message_update

OTHER = 6006


@pytest.fixture(autouse=True)
def monday_morning(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # Mon 08:00 in Berlin


async def fill(app: BotApp, chat: Chat, clock: FakeClock) -> None:
    """Give the user a row in every table: zone, profile, tip, reminder, dose, diary."""
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    await chat.send("/timezone Europe/Berlin")
    await chat.send("/profile 30 f pregnant")
    await chat.send("/subscribe 07:30")
    await chat.send("/log almonds 50g")
    await deliver_reminder(app, chat, clock, "magnesium citrate 200 mg")
    await chat.press(chat.button("Taken"))  # a dose, and its diary entry
    async with deps_of(app).sessions() as session, session.begin():  # a question waiting
        await questions.ask(
            session, chat.user_id, QuestionKind.ZONE, {"action": "remind"}, clock(), key="x"
        )


def owned_rows(tables: dict[str, list[dict[str, Any]]], user_id: int) -> dict[str, list[Any]]:
    """Every row that belongs to `user_id`, table by table, found from the metadata alone.

    A row is the user's when it is their users row, has their user_id, or refers (by a
    foreign key, or by a column named after another table's rows) to one of their rows.
    """
    owned: dict[str, set[Any]] = {name: set() for name in tables}
    owned["users"] = {r["id"] for r in tables["users"] if r["id"] == user_id}
    links: dict[str, list[tuple[str, str]]] = {name: [] for name in tables}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                links[table.name].append((column.name, fk.column.table.name))
        if "user_id" in table.columns and table.name != "users":
            links[table.name].append(("user_id", "users"))
        if "delivery_id" in table.columns:
            links[table.name].append(("delivery_id", "deliveries"))
    changed = True
    while changed:  # follow the links until nothing more is found
        changed = False
        for name, rows in tables.items():
            for row in rows:
                if row["id"] in owned[name]:
                    continue
                if any(row[col] in owned[target] for col, target in links[name]):
                    owned[name].add(row["id"])
                    changed = True
    return {name: sorted(ids) for name, ids in owned.items()}


def links_to_users(name: str) -> bool:
    """Whether rows of table `name` can belong to a person (a user_id or a foreign key)."""
    table = Base.metadata.tables[name]
    return "user_id" in table.columns or any(c.foreign_keys for c in table.columns)


async def every_table(app: BotApp) -> dict[str, list[dict[str, Any]]]:
    async with deps_of(app).engine.connect() as connection:
        result = {}
        for table in Base.metadata.sorted_tables:
            assert isinstance(table, Table)
            rows = await connection.execute(select(table))
            result[table.name] = [dict(row._mapping) for row in rows]
        return result


async def test_forget_deletes_every_row_of_the_user_in_every_table(
    app: BotApp, chat: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    other = Chat(app, fake, user_id=OTHER)
    await fill(app, chat, clock)
    await fill(app, other, clock)
    before = await every_table(app)
    mine = owned_rows(before, chat.user_id)
    theirs = owned_rows(before, OTHER)
    assert set(mine) == {t.name for t in Base.metadata.sorted_tables}
    personal = {name for name in mine if name == "users" or links_to_users(name)}
    assert personal == set(mine) - {"bot_state"}  # bot_state: the bot's own, nobody's
    assert all(mine[name] for name in personal), f"a table holds none of the user's rows: {mine}"

    reply = await chat.send("/forget")
    assert "Delete everything I keep about you?" in reply
    assert "/mydata" in reply
    assert chat.buttons() == [
        ("🗑 Yes, delete everything", f"forget:yes:{chat.user_id}"),
        ("↩️ No, keep it", "forget:no"),
    ]
    assert owned_rows(await every_table(app), chat.user_id) == mine  # nothing yet
    await chat.press(f"forget:yes:{chat.user_id}")
    done = fake.last_edit_text()
    assert done.startswith("✅ Done: I deleted everything I kept about you (")
    rows = sum(len(ids) for ids in mine.values())
    assert f"(records deleted: {rows})" in done

    after = await every_table(app)
    assert all(not ids for ids in owned_rows(after, chat.user_id).values())
    assert owned_rows(after, OTHER) == theirs  # the other user keeps everything

    # Afterwards the bot treats them as new.
    assert (await chat.send("/start")).startswith("Hi Ada!")
    assert "no profile" in await chat.send("/profile clear")
    assert "diary is empty" in await chat.send("/today")


async def test_forget_can_be_declined_and_only_the_asker_can_confirm(
    app: BotApp, chat: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await fill(app, chat, clock)
    before = await every_table(app)
    await chat.send("/forget")
    await chat.press("forget:no")
    assert fake.last_edit_text() == "OK, nothing was deleted."
    stranger = Chat(app, fake, user_id=OTHER)
    await stranger.send("/help")
    await stranger.press(f"forget:yes:{chat.user_id}")
    assert "belongs to someone else's request" in fake.last_edit_text()
    after = await every_table(app)
    after["users"] = [u for u in after["users"] if u["id"] != OTHER]  # the stranger's own row
    assert after == before


async def test_mydata_sends_everything_stored_as_json(
    app: BotApp, chat: Chat, clock: FakeClock, fake: FakeRequest
) -> None:
    await fill(app, chat, clock)
    await Chat(app, fake, user_id=OTHER).send("/log banana")  # someone else's data stays out
    reply = await chat.send("/mydata")
    assert reply.startswith("[document]\n🗂 Everything I keep about you")
    assert "Delete it all with /forget." in reply
    params = fake.files("sendDocument", chat.user_id)[-1]
    upload = params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.filename == "magnesium-bot-my-data-2026-03-02.json"
    data = json.loads(upload.data)
    assert data["user"]["telegram_id"] == chat.user_id
    assert data["time_zone"] == "Europe/Berlin"
    assert data["profile"] == {
        "age_years": 30,
        "sex": "female",
        "pregnant_or_breastfeeding": "pregnant",
    }
    assert data["tip_subscription"]["local_time"] == "07:30"
    assert data["tip_subscription"]["active"] is True
    [reminder] = data["reminders"]
    assert reminder["label"] == "magnesium citrate 200 mg"
    [dose] = data["doses"]
    assert (dose["status"], dose["local_date"]) == ("taken", date(2026, 3, 2).isoformat())
    assert [(e["kind"], e["mg"], e["label"]) for e in data["diary"]] == [
        ("food", 141.1, "Almonds, dry roasted"),
        ("supplement", 200.0, "magnesium citrate 200 mg"),
    ]
    [delivery] = data["deliveries_last_90_days"]
    assert (delivery["kind"], delivery["status"]) == ("reminder", "sent")
    assert "Banana" not in upload.data.decode()


async def test_mydata_and_forget_only_answer_in_a_private_chat(
    app: BotApp, chat: Chat, fake: FakeRequest
) -> None:
    await chat.send("/log banana")
    for command in ("/mydata", "/forget"):
        group = {"chat": {"id": -100123, "type": "group", "title": "Friends"}}
        await app.process_update(
            message_update(app.bot, command, user_id=chat.user_id, extra=group)
        )
        [*_, last] = fake.sent(-100123)
        assert "only send your data in our private chat" in last["text"]
    assert fake.files("sendDocument") == []
