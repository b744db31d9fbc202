"""Webhook mode: Telegram posts updates to WEBHOOK_URL, and a load balancer spreads them over
the workers. `python -m bot` runs this when WEBHOOK_URL is set; without it the bot polls.

PTB's `run_webhook` serves exactly one route and offers no way to add another, so this is
PTB's custom-webhook set-up (its `customwebhookbot` example) on tornado, the web server PTB's
`webhooks` extra installs and `run_webhook` itself uses:

    POST <path of WEBHOOK_URL>  an update: 403 unless the X-Telegram-Bot-Api-Secret-Token
                                header is WEBHOOK_SECRET, 400 if it is not an update; else
                                queued for the application (PTB's update_queue) and 200
    GET  /healthz               200 {"database": "ok", "delivery_leader": ...} when the database
                                answers, 503 {"database": "unreachable", ...} when it does not

Start-up: `bot.app.started` (post_init, then the application starts), the server listens on
LISTEN:PORT, then setWebhook registers WEBHOOK_URL with the secret and `ALLOWED_UPDATES`.
SIGTERM or SIGINT: the server stops taking requests, then the application stops as under
polling. The webhook stays registered: the other workers keep serving it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from http import HTTPStatus
from types import TracebackType

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer

from bot.app import ALLOWED_UPDATES, started
from bot.context import BotApp, deps_of
from bot.db.session import database_answers

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 3.0  # seconds the database may take to answer a health check
MAX_BODY = 1 << 20  # bytes: an update is a few kB; refuse anything far larger


class UpdateHandler(tornado.web.RequestHandler):
    """Take one update from Telegram (through the load balancer) and queue it."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: BotApp, secret: bytes) -> None:
        """Tornado's per-request set-up: the application and the secret to expect."""
        self.app = app
        self.secret = secret

    async def post(self) -> None:
        """Check the secret, parse the update, queue it; answer at once (Telegram waits)."""
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):  # constant time: no timing hints
            log.warning("Refused a webhook request without the right secret token")
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            update = Update.de_json(json.loads(self.request.body), self.app.bot)
        except Exception:  # not JSON, or not an update
            log.warning("Refused a webhook request that holds no update")
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        await self.app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log what went wrong, but not refusals: those are logged above, without the request."""
        if isinstance(value, tornado.web.HTTPError):
            return
        log.error("Webhook request failed", exc_info=value)


class HealthHandler(tornado.web.RequestHandler):
    """Say whether the database answers, and whether this process is the delivery leader."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, app: BotApp) -> None:
        """Tornado's per-request set-up."""
        self.app = app

    async def get(self) -> None:
        """Answer 200 when the database answers, 503 when it does not."""
        deps = deps_of(self.app)
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                answers = await database_answers(deps.engine)
        except TimeoutError:
            answers = False
        self.set_status(HTTPStatus.OK if answers else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "database": "ok" if answers else "unreachable",
                    "delivery_leader": deps.delivery.leading,
                }
            )
        )


def webhook_secret(app: BotApp) -> str:
    """Return WEBHOOK_SECRET (Settings requires it whenever WEBHOOK_URL is set)."""
    secret = deps_of(app).settings.webhook_secret
    if secret is None:
        raise ValueError("webhook mode needs WEBHOOK_SECRET")
    return secret.get_secret_value()


def web_application(app: BotApp) -> tornado.web.Application:
    """Return the tornado application: the webhook route and /healthz."""
    settings = deps_of(app).settings
    secret = webhook_secret(app).encode()
    return tornado.web.Application(
        [
            (HEALTH_PATH, HealthHandler, {"app": app}),
            (
                rf"{settings.webhook_path.rstrip('/')}/?",
                UpdateHandler,
                {"app": app, "secret": secret},
            ),
        ],
        log_function=lambda handler: None,  # no access log: our own lines say what matters
    )


async def serve(app: BotApp) -> None:
    """Run the bot in webhook mode until SIGTERM or SIGINT."""
    settings = deps_of(app).settings
    if settings.webhook_url is None:
        raise ValueError("webhook mode needs WEBHOOK_URL")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with started(app):
        server = HTTPServer(web_application(app), max_body_size=MAX_BODY)
        server.listen(settings.port, address=settings.listen)
        try:
            await app.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=webhook_secret(app),
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info(
                "Webhook set; serving updates on %s:%d%s", settings.listen, settings.port,
                settings.webhook_path,
            )  # fmt: skip
            await stopping.wait()
        finally:
            server.stop()
            await server.close_all_connections()


def run_webhook(app: BotApp) -> int:
    """Serve updates over the webhook until stopped; return the exit code."""
    asyncio.run(serve(app))
    return 0
