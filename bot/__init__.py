"""A Telegram bot about magnesium and nerve health."""
