from __future__ import annotations

from sqlalchemy import select

from bot.app import menu_commands, on_init
from bot.context import BotApp, deps_of
from bot.db.models import User
from tests.support.chat import Chat
from tests.support.env import ADMIN_ID
from tests.support.fake_request import FakeRequest


async def test_start_welcomes_and_stores_the_user_once(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/start")
    assert "Hi Ada" in reply
    assert "magnesium" in reply.lower()
    assert "not medical advice" in reply.lower()
    labels = [label for label, _ in chat.buttons()]
    assert any("Foods" in label for label in labels)
    assert all(data.startswith("menu:") for _, data in chat.buttons())

    await chat.send("/start")
    async with deps_of(app).sessions() as session:
        users = (await session.scalars(select(User))).all()
    assert len(users) == 1
    assert users[0].id == chat.user_id
    assert users[0].first_name == "Ada"
    assert users[0].language == "en"


async def test_help_lists_every_public_command_once(app: BotApp, chat: Chat) -> None:
    reply = await chat.send("/help")
    content = deps_of(app).content
    for command in content.commands:
        if command.admin:
            assert f"/{command.name} " not in reply
        else:
            assert f"/{command.name} – {command.description}" in reply


async def test_help_shows_admin_commands_to_admins(app: BotApp, fake: FakeRequest) -> None:
    admin = Chat(app, fake, user_id=ADMIN_ID)
    assert "/admin" in await admin.send("/help")


async def test_startup_publishes_the_same_commands_as_help(app: BotApp, fake: FakeRequest) -> None:
    await on_init(app)
    published = fake.of("setMyCommands")[-1]["commands"]
    expected = [c.to_dict() for c in menu_commands(deps_of(app).content)]
    assert published == expected
    assert {
        "command": "food",
        "description": "Look up one food, e.g. /food almonds 50g",
    } in published


async def test_unknown_command_points_to_help(chat: Chat) -> None:
    reply = await chat.send("/frobnicate now")
    assert "I don't know the command /frobnicate" in reply
    assert "/help" in reply


async def test_every_listed_command_has_a_handler(app: BotApp, chat: Chat) -> None:
    for command in deps_of(app).content.commands:
        if command.admin:
            continue
        reply = await chat.send(f"/{command.name}")
        assert reply, f"/{command.name} got no answer"
        assert "I don't know the command" not in reply, f"/{command.name} is not handled"


async def test_the_application_keeps_nothing_per_user(app: BotApp, fake: FakeRequest) -> None:
    # PTB, without a persistence, would remember every chat and user id it ever saw.
    for user_id in range(5001, 5011):
        reply = await Chat(app, fake, user_id=user_id).send("/food almonds")
        assert "almond" in reply.lower()
    assert not app.user_data
    assert not app.chat_data
    assert not app._user_ids_to_be_updated_in_persistence
    assert not app._chat_ids_to_be_updated_in_persistence
