"""Config loading: the example is valid, broken files name the key and the problem."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

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
