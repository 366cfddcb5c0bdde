"""Configuration: YAML file validated into frozen pydantic models.

Errors name the key and the problem, so a coordinator fixing a config file knows where to look.
The token from ``CLAIMBOT_TOKEN`` wins over the file and is never printed.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain import (
    MAX_TEAMS,
    TEAM_NAME_MAX_LENGTH,
    clean_team_name,
    team_key,
    team_name_problem,
)

TOKEN_ENV = "CLAIMBOT_TOKEN"
WEBHOOK_SECRET_ENV = "CLAIMBOT_WEBHOOK_SECRET"
# The ports Telegram itself delivers webhooks to (a self-hosted Bot API server takes any).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
# The token config.example.yaml ships with; ``claimbot run`` refuses it.
EXAMPLE_TOKEN = "123456789:replace-with-your-token"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


_TEAM_NAME_PROBLEMS = {
    "team_name_empty": "a team name cannot be empty",
    "team_name_too_long": f"a team name has at most {TEAM_NAME_MAX_LENGTH} characters",
    "team_name_reserved": "add, remove and - cannot be team names (/team takes them)",
}


class ConfigError(Exception):
    """A config file that cannot be used; the message names the key and the problem."""


def parse_duration(value: Any) -> timedelta:
    """Parse ``30s``, ``10m``, ``2h`` or ``3d`` into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 10m, 2h or 3d, got {value!r}")


def _parse_clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as the sexagesimal integer 540.
        return time(value // 60 % 24, value % 60)
    if isinstance(value, str):
        match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*$", value)
        if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"expected a local time such as 09:00, got {value!r}")


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        match = _ISO_DATE.match(value)
        if not match:
            raise ValueError(f"expected a date such as 2027-02-06, got {value!r}")
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError as exc:
            raise ValueError(f"{value.strip()} is not a date in the calendar ({exc})") from None
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
CalendarDate = Annotated[date, BeforeValidator(_parse_date)]
ClockTime = Annotated[time, BeforeValidator(_parse_clock)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateLimitConfig(_Frozen):
    """Outgoing pacing within Telegram's flood limits."""

    overall_per_second: float = Field(30, gt=0)
    group_per_minute: float = Field(20, gt=0)
    max_retries: int = Field(5, ge=0)
    share: float = Field(0.95, gt=0, le=1)


class WebhookConfig(_Frozen):
    """Webhook mode: Telegram POSTs updates to ``url``; a reverse proxy there passes them (same
    path) to the bot listening on ``listen``:``port`` over plain HTTP."""

    url: str
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    secret_token: SecretStr | None = Field(None, validate_default=True)
    max_connections: int = Field(40, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _reachable_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(
                "must be the public https:// address Telegram posts updates to,"
                " e.g. https://bot.example.org/claimbot"
            )
        return value

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        if value != "localhost":
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an IP address to listen on (e.g. 127.0.0.1 behind a"
                    " reverse proxy on this machine, 0.0.0.0 for every interface)"
                ) from None
        return value

    @field_validator("secret_token")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr:
        if value is None:
            raise ValueError(
                "required in webhook mode, so that only Telegram can post updates to the bot:"
                f" 1-256 of A-Z a-z 0-9 _ - (or set {WEBHOOK_SECRET_ENV})"
            )
        if not _SECRET_TOKEN.match(value.get_secret_value()):
            # Never echo the value.
            raise ValueError("must be 1-256 characters, each A-Z, a-z, 0-9, _ or -")
        return value

    @property
    def path(self) -> str:
        """The path the bot listens on: the URL's, as the reverse proxy passes it."""
        return urlsplit(self.url).path.rstrip("/") or "/"

    @property
    def secret(self) -> str:
        """The secret token (validated present)."""
        assert self.secret_token is not None
        return self.secret_token.get_secret_value()


class TelegramConfig(_Frozen):
    """How the bot reaches the Bot API, and how updates reach the bot."""

    token: SecretStr | None = None
    base_url: str | None = None
    base_file_url: str | None = None
    concurrent_updates: int = Field(8, ge=1, le=256)
    rate_limit: RateLimitConfig = RateLimitConfig()
    poll_timeout: int = Field(10, ge=0, le=50)
    # Seconds ``claimbot run`` keeps trying to reach the Bot API at start before it gives up.
    connect_timeout: float = Field(60, gt=0)
    # None: long polling (getUpdates), the default.
    webhook: WebhookConfig | None = None

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            # Never echo the value: it may be a real token with a typo.
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        return value

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value

    def webhook_problems(self) -> list[str]:
        """What Telegram itself would refuse of the webhook (a self-hosted Bot API server in
        base_url takes http:// and any port), one line a problem naming the key."""
        if self.webhook is None or self.base_url is not None:
            return []
        parts = urlsplit(self.webhook.url)
        if parts.scheme != "https":
            return [
                "telegram.webhook.url: Telegram posts updates to https:// addresses only"
                " (http:// works with a self-hosted Bot API server in telegram.base_url)"
            ]
        port = parts.port or 443
        if port not in TELEGRAM_WEBHOOK_PORTS:
            return [
                f"telegram.webhook.url: port {port}; Telegram posts updates to ports 443, 80,"
                " 88 and 8443 only (let the reverse proxy listen there)"
            ]
        return []

    @property
    def file_url(self) -> str | None:
        """Where files are downloaded from: base_file_url, else next to a base_url that ends
        in /bot (a self-hosted Bot API server, or the emulator, serves them at /file/bot);
        None: python-telegram-bot's default, Telegram's own."""
        if self.base_file_url:
            return self.base_file_url
        if self.base_url and self.base_url.rstrip("/").endswith("/bot"):
            return self.base_url.rstrip("/").removesuffix("/bot") + "/file/bot"
        return None


class DatabaseConfig(_Frozen):
    """Where the SQLite file lives and how hard each commit is pushed to disk."""

    path: Path = Path("claimbot.db")
    # FULL: a claim answered as won must survive power loss, not only a process crash.
    synchronous: Literal["full", "normal"] = "full"


# A claimer's private message holds the summary, five details and their labels; Telegram
# takes 4096 characters a message. This leaves room for the labels and the framing text.
MESSAGE_BUDGET = 3600


class LimitsConfig(_Frozen):
    """Limits a coordinator can set."""

    max_open_claims_per_volunteer: int = Field(3, ge=1, le=1000)
    # The most needs one team may hold at once (null: no limit).
    max_open_claims_per_team: int | None = Field(None, ge=1, le=100_000)
    # Whether a volunteer must pick a team before claiming (while any team exists).
    require_team: bool = False
    summary_max_length: int = Field(500, ge=20, le=3000)
    detail_max_length: int = Field(500, ge=20, le=3000)

    @model_validator(mode="after")
    def _details_fit_one_message(self) -> LimitsConfig:
        total = self.summary_max_length + 5 * self.detail_max_length
        if total > MESSAGE_BUDGET:
            raise ValueError(
                f"summary_max_length + 5 x detail_max_length is {total}; at most"
                f" {MESSAGE_BUDGET}, so a claimer's details fit in one Telegram message"
            )
        return self


_LUNAR_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|30)$")


class HolidayConfig(_Frozen):
    """An occasion claimers are reminded of ahead of time: a date, or a lunar day each year."""

    name: str = Field(min_length=1, max_length=100)
    date: CalendarDate | None = None
    lunar: str | None = None
    remind_before: list[Duration] = Field(default_factory=lambda: [timedelta(days=1)])

    @field_validator("lunar")
    @classmethod
    def _lunar_day(cls, value: str | None) -> str | None:
        if value is not None and not _LUNAR_DAY.match(value):
            raise ValueError(f'expected a lunar month and day such as "09-09", got {value!r}')
        return value

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> HolidayConfig:
        if (self.date is None) == (self.lunar is None):
            raise ValueError('give either date (e.g. 2027-02-06) or lunar (e.g. "09-09")')
        return self


def _parse_quiet_hours(value: Any) -> tuple[time, time] | None:
    if value is None or isinstance(value, tuple):
        return value
    if isinstance(value, str) and "-" in value:
        start, end = value.split("-", 1)
        return _parse_clock(start), _parse_clock(end)
    raise ValueError(f"expected a range such as 22:00-08:00 or null, got {value!r}")


class RemindersConfig(_Frozen):
    """Follow-ups, holiday reminders, digests, and the hours when none are sent."""

    follow_up_after: Duration = timedelta(days=3)
    # China's public holidays come from the holidays library; null: only the list below.
    country: str | None = "CN"
    country_remind_before: list[Duration] = Field(default_factory=lambda: [timedelta(days=3)])
    holidays: list[HolidayConfig] = Field(default_factory=list)
    send_at: ClockTime = time(9, 0)
    unclaimed_digest: ClockTime | None = time(9, 0)
    # A reminder due while the bot was down is sent at start if it is at most this late.
    catch_up: Duration = timedelta(hours=12)
    # How often the bot looks for reminders that are due.
    check_every: Duration = timedelta(seconds=30)
    quiet_hours: Annotated[tuple[time, time] | None, BeforeValidator(_parse_quiet_hours)] = (
        time(22, 0),
        time(8, 0),
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        # A country the library does not know would give no holidays at all: say so now.
        if value is not None and value not in holiday_calendars.list_supported_countries():
            raise ValueError(
                f"{value!r} is not a country the holidays library knows: an ISO code such"
                " as CN, or null for only the holidays listed below"
            )
        return value


DEFAULT_CHECKLIST = {
    "groceries": {"en": "Brought rice, flour, oil or eggs", "zh": "送米面油蛋"},
    "fruit": {"en": "Brought fruit", "zh": "送水果"},
    "couplets": {"en": "Brought couplets", "zh": "送春联"},
    "cleaning": {"en": "Helped clean", "zh": "帮忙打扫"},
    "talk": {"en": "Sat and talked", "zh": "陪伴聊天"},
    "health": {"en": "Checked on health", "zh": "关心身体状况"},
    "errand": {"en": "Ran an errand", "zh": "代办事务"},
}


class VisitsConfig(_Frozen):
    """What a claimer can tick when logging a visit: key to label per language."""

    checklist: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_CHECKLIST))

    @field_validator("checklist")
    @classmethod
    def _labels(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if not value:
            raise ValueError("needs at least one item")
        for key, labels in value.items():
            if not re.fullmatch(r"[a-z0-9_]{1,20}", key):
                raise ValueError(f"{key!r}: keys are 1-20 of a-z, 0-9 and _")
            missing = {"zh", "en"} - set(labels)
            if missing:
                raise ValueError(f"{key}: no label in {', '.join(sorted(missing))}")
            if any(not label or len(label) > 40 for label in labels.values()):
                raise ValueError(f"{key}: each label 1-40 characters")
        return value


class PostingConfig(_Frozen):
    """How needs go out to a group."""

    # Needs posted together (an import) share group messages, this many to a board. Each
    # board is one message of Telegram's 20 a minute in a group, and stays within its
    # 4,096 characters and readable on a phone.
    needs_per_board: int = Field(8, ge=1, le=20)


class PrivacyConfig(_Frozen):
    """How long households' private details are kept once their need is over."""

    # Days after a need is closed or cancelled before its private details (and its visits'
    # notes and photos) are purged; null keeps them. The record stays: summary, claims,
    # visit dates, what was done.
    retention_days: int | None = Field(90, ge=0, le=36500)


class LoggingConfig(_Frozen):
    """Log verbosity; private details and the token never reach the log at any level."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(_Frozen):
    """The whole validated configuration."""

    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    coordinators: frozenset[int] = frozenset()
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    limits: LimitsConfig = LimitsConfig()
    reminders: RemindersConfig = RemindersConfig()
    visits: VisitsConfig = VisitsConfig()
    posting: PostingConfig = PostingConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    logging: LoggingConfig = LoggingConfig()
    # Teams volunteers pick from, besides those coordinators add with /team add.
    teams: tuple[str, ...] = ()

    @field_validator("coordinators", mode="before")
    @classmethod
    def _coordinator_ids(cls, value: Any) -> Any:
        if value is None:
            return frozenset()
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValueError("must be a list of Telegram user ids, e.g. [111111111]")
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
                raise ValueError(f"{item!r} is not a Telegram user id (a positive number)")
        return frozenset(value)

    @field_validator("teams", mode="before")
    @classmethod
    def _team_names(cls, value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise ValueError('must be a list of team names, e.g. ["Party Branch 1"]')
        names, keys = [], set()
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"{item!r} is not a team name (write it as text)")
            name = clean_team_name(item)
            problem = team_name_problem(name)
            if problem is not None:
                raise ValueError(f"{item!r}: {_TEAM_NAME_PROBLEMS[problem]}")
            if team_key(name) in keys:
                raise ValueError(f"{name!r} is listed twice")
            keys.add(team_key(name))
            names.append(name)
        if len(names) > MAX_TEAMS:
            raise ValueError(f"{len(names)} teams; at most {MAX_TEAMS}")
        return tuple(names)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        """The bot token, or None when neither the file nor the environment gives one."""
        return self.telegram.token.get_secret_value() if self.telegram.token else None

    def is_coordinator(self, user_id: int) -> bool:
        """Whether this Telegram user may post and manage needs."""
        return user_id in self.coordinators


def _key_path(loc: tuple[int | str, ...]) -> str:
    """``reminders.holidays[0].date``: keys joined by dots, list positions in brackets."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but an impossible date (2027-02-30) stays text.

    PyYAML raises a bare ValueError for one while loading, with no key to name; as text, the
    validation that follows names its key and the problem.
    """


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def config_from_mapping(data: Any, env: dict[str, str] | None = None) -> Config:
    """Validate a parsed YAML mapping; ``CLAIMBOT_TOKEN`` (and, in webhook mode,
    ``CLAIMBOT_WEBHOOK_SECRET``) in ``env`` win over the file."""
    env = dict(os.environ) if env is None else env
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("(top level): the config file must be a mapping of keys to values")
    data = dict(data)
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        data["telegram"] = {**_telegram_section(data), "token": token}
    secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
    webhook = _telegram_section(data).get("webhook")
    if secret and isinstance(webhook, dict):
        # Only where the file asks for webhook mode: the secret alone does not switch it on.
        data["telegram"] = {
            **_telegram_section(data),
            "webhook": {**webhook, "secret_token": secret},
        }
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            key = _key_path(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (see config.example.yaml for the keys there are)"
            problems.append(f"{key}: {message}")
        raise ConfigError("\n".join(problems)) from None


def _telegram_section(data: dict[str, Any]) -> dict[str, Any]:
    telegram = data.get("telegram") or {}
    if not isinstance(telegram, dict):
        raise ConfigError("telegram: must be a mapping (token, base_url, ...)")
    return telegram


def load_config(path: Path | str | None, env: dict[str, str] | None = None) -> Config:
    """Read and validate a YAML config file; None means defaults plus the environment."""
    if path is None:
        return config_from_mapping({}, env)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        data = yaml.load(text, Loader=_ConfigLoader)  # a SafeLoader: builds plain values only
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{line}") from None
    except ValueError as exc:  # a value PyYAML's constructors cannot build
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    return config_from_mapping(data, env)
