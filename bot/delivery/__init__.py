"""Scheduled delivery: the dispatcher claims due rows, the sender sends them under the limit.

See `courier.py` for how the two run together, `dispatcher.py` for how due rows are claimed,
`sender.py` and `outcomes.py` for what happens to each send, `ratelimit.py` for the token's
rate limiter and `messages.py` for the scheduled messages and their buttons.
"""
