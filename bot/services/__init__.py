"""Thin use cases: plain functions over repositories and the domain, no Telegram."""
