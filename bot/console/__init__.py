"""The offline console: the real Application against an in-process fake Bot API.

`terminal.py` is the chat in the terminal; `fake_api.py` answers the bot's Bot API calls.
"""
