"""Use cases behind /mydata (everything stored about a person, as JSON) and /forget.

None of them commits: the handler owns the transaction.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.mydata_repo import UserDataRepo
from bot.domain.profile import profile_from_columns

EXPORT_FORMAT = "magnesium-bot export, version 1"
DELIVERY_DAYS = 90  # scheduled messages of the last 90 days go into the export


def _when(value: datetime | date | None) -> str | None:
    """Return a timestamp or a date as ISO 8601 (UTC timestamps end in Z)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


async def export_user(session: AsyncSession, user_id: int, now: datetime) -> dict[str, Any] | None:
    """Return everything stored about the user as plain JSON values; None for an unknown user."""
    repo = UserDataRepo(session)
    user = await repo.user(user_id)
    if user is None:
        return None
    profile = profile_from_columns(user.age, user.sex, user.life_stage)
    subscription = await repo.subscription(user_id)
    since = now - timedelta(days=DELIVERY_DAYS)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(now),
        "user": {
            "telegram_id": user.id,
            "chat_id": user.chat_id,
            "first_name": user.first_name,
            "language": user.language,
            "created_at": _when(user.created_at),
            "blocked_at": _when(user.blocked_at),
        },
        "time_zone": user.time_zone,
        "profile": None
        if profile is None
        else {
            "age_years": profile.age_years,
            "sex": profile.sex,
            "pregnant_or_breastfeeding": profile.status,
        },
        "tip_subscription": None
        if subscription is None
        else {
            "active": subscription.active,
            "local_time": subscription.local_time,
            "next_due_utc": _when(subscription.next_due_utc),
            "tips_order": [t for t in subscription.rotation.split(",") if t],
            "position": subscription.cursor,
            "created_at": _when(subscription.created_at),
        },
        "reminders": [
            {
                "id": r.id,
                "label": r.label,
                "local_time": r.local_time,
                "active": r.active,
                "next_due_utc": _when(r.next_due_utc),
                "created_at": _when(r.created_at),
            }
            for r in await repo.reminders(user_id)
        ],
        "doses": [
            {
                "reminder_id": d.reminder_id,
                "delivery_id": d.delivery_id,
                "local_date": _when(d.local_date),
                "status": d.status,
                "at_utc": _when(d.at_utc),
            }
            for d in await repo.doses(user_id)
        ],
        "diary": [
            {
                "id": e.id,
                "local_date": _when(e.local_date),
                "kind": e.kind,
                "mg": e.mg,
                "food_id": e.food_id,
                "label": e.label,
                "amount": e.amount,
                "from_reminder_dose": e.dose_id,
                "logged_at": _when(e.created_at),
            }
            for e in await repo.diary(user_id)
        ],
        f"deliveries_last_{DELIVERY_DAYS}_days": [
            {
                "id": d.id,
                "kind": d.kind,
                "reminder_id": d.reminder_id,
                "local_date": _when(d.local_date),
                "due_utc": _when(d.due_utc),
                "status": d.status,
                "attempts": d.attempts,
                "sent_at": _when(d.sent_at),
                "label": d.label,
                "tip": d.tip_id,
                "error": d.error,
            }
            for d in await repo.deliveries_since(user_id, since)
        ],
    }


def export_json(data: dict[str, Any]) -> bytes:
    """Encode an export as readable UTF-8 JSON."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


async def forget_user(session: AsyncSession, user_id: int) -> dict[str, int]:
    """Delete every row of the user in every table; return the rows deleted per table."""
    return await UserDataRepo(session).delete_all(user_id)
