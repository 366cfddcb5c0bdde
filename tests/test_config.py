"""Config loading: the example is valid, broken files name the key and the problem."""

from __future__ import annotations

import socket
from datetime import time, timedelta
from pathlib import Path

import pytest
import yaml

from bot.__main__ import main
from bot.config import EXAMPLE_TOKEN, ConfigError, load_config, parse_duration

EXAMPLE = Path(__file__).parent.parent / "config.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_and_documents_every_key():
    config = load_config(EXAMPLE, env={})
    assert config.token == EXAMPLE_TOKEN
    assert config.telegram.connect_timeout == 60
    assert config.coordinators == {111111111, 222222222}
    assert config.reminders.follow_up_after == timedelta(days=3)
    assert config.reminders.holidays[0].remind_before == [timedelta(days=7), timedelta(days=1)]
    assert config.reminders.unclaimed_digest == time(9, 0)
    assert config.reminders.quiet_hours == (time(22, 0), time(8, 0))
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, model in config:
        assert f"{section}:" in text, section
        if hasattr(type(model), "model_fields"):
            for key in type(model).model_fields:
                assert f"{key}:" in text, f"{section}.{key} is not documented"


def test_environment_token_wins(tmp_path):
    path = write(tmp_path, 'telegram:\n  token: "1:file"\ncoordinators: [1]\n')
    assert load_config(path, env={"CLAIMBOT_TOKEN": "2:env"}).token == "2:env"
    assert load_config(path, env={}).token == "1:file"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("coordinators: [abc]", "coordinators: 'abc' is not a Telegram user id"),
        ("coordinators: 5", "coordinators: must be a list"),
        ("timezone: Mars/Olympus", "timezone: unknown time zone"),
        ("language: fr", "language: Input should be 'zh' or 'en'"),
        ("reminders:\n  follow_up_after: soon", "reminders.follow_up_after: expected a duration"),
        ("reminders:\n  quiet_hours: 25:00-08:00", "reminders.quiet_hours"),
        (
            "reminders:\n  country: ZZ",
            "reminders.country: 'ZZ' is not a country the holidays library knows",
        ),
        ("telegram:\n  tokn: x", "telegram.tokn: unknown key"),
        ("telegram:\n  token: not-a-token", "telegram.token: does not look like a bot token"),
        ("telegram:\n  base_url: ftp://x", "telegram.base_url: must start with http"),
        ("limits:\n  max_open_claims_per_volunteer: 0", "limits.max_open_claims_per_volunteer"),
        ("- just\n- a list", "(top level): the config file must be a mapping"),
        ("telegram: [unclosed", "not valid YAML at line"),
        ("telegram:\n  connect_timeout: 0", "telegram.connect_timeout: Input should be greater"),
        ("telegram:\n  connect_timeout: soon", "telegram.connect_timeout: Input should be a"),
        (
            "reminders:\n  holidays:\n    - name: Spring Festival\n      date: 2027-02-30",
            "reminders.holidays[0].date: 2027-02-30 is not a date in the calendar"
            " (day is out of range for month)",
        ),
        (
            "reminders:\n  holidays:\n    - {name: A, date: 2027-02-06}\n"
            "    - {name: B, date: '2027-13-01'}",
            "reminders.holidays[1].date: 2027-13-01 is not a date in the calendar",
        ),
        (
            "reminders:\n  holidays:\n    - {name: A, date: next week}",
            "reminders.holidays[0].date: expected a date such as 2027-02-06, got 'next week'",
        ),
    ],
)
def test_broken_config_names_key_and_problem(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert expected in str(caught.value)


def test_token_is_never_echoed_in_errors(tmp_path):
    secret = "bad token with spaces SECRET"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f'telegram:\n  token: "{secret}"'), env={})
    assert "SECRET" not in str(caught.value)


def test_durations():
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("2h") == timedelta(hours=2)
    with pytest.raises(ValueError):
        parse_duration("3 weeks")


def test_run_refuses_missing_token_and_coordinators(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAIMBOT_TOKEN", raising=False)
    path = write(tmp_path, "language: en\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "telegram.token: missing" in err
    assert "coordinators: no user ids" in err


def test_run_refuses_the_examples_placeholder_token(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAIMBOT_TOKEN", raising=False)
    text = EXAMPLE.read_text(encoding="utf-8")
    assert main(["run", "--config", str(write(tmp_path, text))]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "claimbot: config error: telegram.token: still the placeholder from"
        " config.example.yaml; put the token @BotFather gave you in CLAIMBOT_TOKEN or in"
        " telegram.token"
    ]
    assert EXAMPLE_TOKEN not in err and EXAMPLE_TOKEN.split(":")[1] not in err
    # The same placeholder from the environment is refused as well.
    monkeypatch.setenv("CLAIMBOT_TOKEN", EXAMPLE_TOKEN)
    assert main(["run", "--config", str(write(tmp_path, "coordinators: [1]\n"))]) == 2
    assert "still the placeholder" in capsys.readouterr().err


def test_run_refuses_an_impossible_date_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLAIMBOT_TOKEN", "123:abc")
    text = "coordinators: [1]\nreminders:\n  holidays:\n    - name: X\n      date: 2027-02-30\n"
    assert main(["run", "--config", str(write(tmp_path, text))]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "claimbot: config error: reminders.holidays[0].date: 2027-02-30 is not a date in the"
        " calendar (day is out of range for month)"
    ]


def test_a_date_that_exists_and_a_date_like_name_still_load(tmp_path):
    text = "reminders:\n  holidays:\n    - name: 2027-02-31\n      date: 2027-02-28\n"
    holiday = load_config(write(tmp_path, text), env={}).reminders.holidays[0]
    assert (holiday.name, holiday.date.isoformat()) == ("2027-02-31", "2027-02-28")


def test_run_refuses_missing_file(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["garbage", "directory"])
def test_run_refuses_an_unusable_database(tmp_path, capsys, monkeypatch, kind):
    monkeypatch.setenv("CLAIMBOT_TOKEN", "123:abc")
    target = tmp_path / "bot.db"
    if kind == "garbage":
        target.write_bytes(b"this is not a database at all" * 100)
    else:
        target.mkdir()
    path = write(tmp_path, f"coordinators: [1]\ndatabase:\n  path: {target}\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"database.path: {target}: cannot use it" in err


def test_limits_must_fit_one_message(tmp_path):
    text = "limits:\n  summary_max_length: 1000\n  detail_max_length: 1000\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert "limits: summary_max_length + 5 x detail_max_length is 6000" in str(caught.value)


WEBHOOK = "telegram:\n  webhook:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WEBHOOK + "    listen: 127.0.0.1", "telegram.webhook.url: Field required"),
        (
            WEBHOOK + "    url: bot.example.org/hook\n    secret_token: abc",
            "telegram.webhook.url: must be the public https:// address",
        ),
        (
            WEBHOOK + "    url: https://bot.example.org/hook",
            "telegram.webhook.secret_token: required in webhook mode",
        ),
        (
            WEBHOOK + "    url: https://b.example.org/h\n    secret_token: abc\n    port: 0",
            "telegram.webhook.port: Input should be greater than or equal to 1",
        ),
        (
            WEBHOOK + "    url: https://b.example.org/h\n    secret_token: abc\n    listen: all",
            "telegram.webhook.listen: 'all' is not an IP address to listen on",
        ),
        (
            WEBHOOK + "    url: https://b.example.org/h\n    secret_token: abc\n    path: /x",
            "telegram.webhook.path: unknown key",
        ),
    ],
)
def test_broken_webhook_config_names_key_and_problem(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert expected in str(caught.value)


def test_webhook_secret_is_checked_never_echoed_and_the_environment_wins(tmp_path):
    text = WEBHOOK + "    url: https://bot.example.org/claimbot/\n    secret_token: '{}'\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text.format("has spaces SECRET")), env={})
    assert "telegram.webhook.secret_token: must be 1-256 characters" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    env = {"CLAIMBOT_WEBHOOK_SECRET": "from-env_1"}
    webhook = load_config(write(tmp_path, text.format("from-file")), env=env).telegram.webhook
    assert webhook is not None and webhook.secret == "from-env_1"
    assert (webhook.listen, webhook.port, webhook.path) == ("127.0.0.1", 8080, "/claimbot")
    # The secret alone does not switch webhook mode on.
    assert load_config(write(tmp_path, "language: en\n"), env=env).telegram.webhook is None


@pytest.mark.parametrize(
    ("url", "base_url", "expected"),
    [
        ("http://bot.example.org/hook", None, "Telegram posts updates to https:// addresses"),
        ("https://bot.example.org:8080/hook", None, "port 8080; Telegram posts updates to"),
        ("https://bot.example.org:8443/hook", None, None),
        ("https://bot.example.org/hook", None, None),
        # A self-hosted Bot API server (--local) delivers to http:// and any port.
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8081/bot", None),
    ],
)
def test_run_refuses_a_webhook_telegram_would_not_post_to(
    tmp_path, capsys, monkeypatch, url, base_url, expected
):
    monkeypatch.setenv("CLAIMBOT_TOKEN", "123:abc")
    # A directory for a database: refused right after the config checks, before any network.
    settings = {
        "coordinators": [1],
        "database": {"path": str(tmp_path)},
        "telegram": {"webhook": {"url": url, "secret_token": "abc"}, "base_url": base_url},
    }
    path = write(tmp_path, yaml.safe_dump(settings))
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    if expected is None:
        assert "telegram.webhook" not in err and "database.path" in err  # got that far
    else:
        assert f"claimbot: config error: telegram.webhook.url: {expected}" in err


def test_run_refuses_a_webhook_port_it_cannot_listen_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLAIMBOT_TOKEN", "123:abc")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        webhook = {"url": "https://b.example.org/h", "secret_token": "abc", "port": port}
        settings = {
            "coordinators": [1],
            "database": {"path": str(tmp_path / "bot.db")},
            "telegram": {"webhook": webhook},
        }
        assert main(["run", "--config", str(write(tmp_path, yaml.safe_dump(settings)))]) == 2
    err = capsys.readouterr().err
    assert f"telegram.webhook.port: cannot listen on 127.0.0.1:{port}" in err
