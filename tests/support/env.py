"""What the test run is configured with: the admin of the test bot, and PostgreSQL if any."""

from __future__ import annotations

import os

ADMIN_ID = 42
# Set TEST_DATABASE_URL=postgresql+asyncpg://... to run the whole suite on PostgreSQL.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
