"""claimbot: a Telegram bot that pairs volunteers with households in need."""

import os

# Opt in to python-telegram-bot's coming timedelta time periods (RetryAfter.retry_after and
# friends). Without it PTB warns each time a 429 is raised, and we read the new type anyway.
os.environ.setdefault("PTB_TIMEDELTA", "true")
