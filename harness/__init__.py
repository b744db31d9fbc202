"""What the tests and the benchmarks share: a fake Bot API over HTTP and a bot process's setup.

Neither is part of the bot: `bot/console/` has the in-process fake the offline console uses.
"""
