"""The service layer: what the bot does, between Telegram (``handlers/``, ``bot/cli.py``) and
storage (``bot/storage/``)."""
