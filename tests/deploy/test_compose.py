"""deploy/docker-compose.yml: the bot from deploy/Dockerfile plus PostgreSQL, consistent with the code."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from bot.config import load_policy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_bot_builds_from_the_dockerfile_and_waits_for_a_healthy_postgres() -> None:
    bot, db = COMPOSE["services"]["bot"], COMPOSE["services"]["db"]
    context = (DEPLOY / bot["build"]["context"]).resolve()
    assert (context / bot["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["image"].startswith("postgres:")


def test_database_url_points_at_the_compose_postgres() -> None:
    bot, db = COMPOSE["services"]["bot"], COMPOSE["services"]["db"]
    url = make_url(bot["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-warroom}", "pw"))
    assert url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"
    assert url.host == "db" and url.database == db["environment"]["POSTGRES_DB"]
    assert url.username == db["environment"]["POSTGRES_USER"]


def test_policy_is_mounted_where_warroom_config_points_and_loads() -> None:
    bot = COMPOSE["services"]["bot"]
    mounts = {target: source for source, target, *_ in (v.split(":") for v in bot["volumes"])}
    source = mounts[bot["environment"]["WARROOM_CONFIG"]]
    load_policy(DEPLOY / source)


def test_secrets_come_from_an_env_file_not_the_compose_file() -> None:
    bot = COMPOSE["services"]["bot"]
    assert not {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} & set(bot["environment"])
    assert bot["env_file"][0]["path"] == ".env"
    example = (DEPLOY / ".env.example").read_text()
    assert "SLACK_BOT_TOKEN=" in example and "SLACK_SIGNING_SECRET=" in example
    assert bot["read_only"] is True and bot["cap_drop"] == ["ALL"]
