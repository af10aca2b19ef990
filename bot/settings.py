"""The one typed configuration of artistbot.

Defaults live in ``config/default.toml``; any key can be overridden by an
environment variable ``ARTISTBOT_<SECTION>__<KEY>`` (for example
``ARTISTBOT_RETRIEVAL__TOP_K=5``). Bot tokens come from the environment only
(``TELEGRAM_BOT_TOKEN``, ``DISCORD_BOT_TOKEN``) and are refused in a config file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from retrieval.settings import RetrievalSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"
TOKEN_VARIABLES = ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN")


class SettingsError(Exception):
    """The configuration is invalid; the message names the offending setting."""


class ChatSettings(BaseModel):
    """Limits and behaviour of the platform-free chat layer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_question_chars: int = Field(default=500, ge=10, le=4000)
    rate_limit_questions: int = Field(default=6, ge=1, le=1000)
    rate_limit_seconds: float = Field(default=60.0, gt=0, le=86400)
    # Inline queries (searches as you type) one user may make in rate_limit_seconds, counted
    # apart from questions: typing pauses that each end in a search, not messages sent.
    rate_limit_inline_queries: int = Field(default=60, ge=1, le=10000)
    # Where questions are counted: memory:// in this process, or a `limits` storage URI
    # (redis://… to share the count between processes).
    rate_limit_storage: str = "memory://"
    feedback_db: Path = Path("feedback.sqlite3")  # relative to the data directory
    # A person's follow-ups stay with their artist until this many minutes pass without one.
    topic_minutes: float = Field(default=30.0, gt=0, le=10080)
    # The largest story file an admin may send from a chat (2 MB; the loader's own limit is 20).
    max_story_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)

    @field_validator("rate_limit_storage")
    @classmethod
    def _storage_opens(cls, uri: str) -> str:
        """Refuse a storage the rate limiter could not use now, not at the first question."""
        # Imported here: the chat layer imports these settings.
        from bot.chat.ratelimit import DEFAULT_STORAGE, open_storage

        if uri != DEFAULT_STORAGE:
            open_storage(uri)
        return uri


class TelegramSettings(BaseModel):
    """Telegram adapter settings (the token is read from TELEGRAM_BOT_TOKEN)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    admins: tuple[int, ...] = ()  # user ids allowed to /reload and to add and remove stories
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"  # where sent files are fetched
    # Updates handled at once (across chats; each chat's messages stay in order).
    concurrent_updates: int = Field(default=64, ge=1, le=1024)


class DiscordSettings(BaseModel):
    """Discord adapter settings (the token is read from DISCORD_BOT_TOKEN)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # User ids allowed to /reload (as are Administrators) and to add and remove stories.
    admins: tuple[int, ...] = ()
    api_base: str = "https://discord.com/api/v10"  # REST API (a local stand-in in tests)
    gateway_url: str = "wss://gateway.discord.gg/"  # gateway (a local stand-in in tests)


class LogSettings(BaseModel):
    """The private question log (see bot.chat.questionlog); kept in the feedback database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    retention_days: int = Field(default=90, ge=1, le=3650)  # older rows are deleted


class WebSettings(BaseModel):
    """The operator web page (the admin token comes from WEB_ADMIN_TOKEN only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", min_length=1, max_length=253)
    port: int = Field(default=8765, ge=1, le=65535)
    session_hours: float = Field(default=12.0, gt=0, le=720)  # a login lasts this long


class Settings(BaseSettings):
    """All of artistbot's configuration, validated."""

    model_config = SettingsConfigDict(
        env_prefix="ARTISTBOT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    retrieval: RetrievalSettings = RetrievalSettings()
    chat: ChatSettings = ChatSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()
    log: LogSettings = LogSettings()
    web: WebSettings = WebSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the config file (which arrives as init values).
        return (env_settings, init_settings)

    @property
    def feedback_path(self) -> Path:
        """Where feedback is stored."""
        path = self.chat.feedback_db
        return path if path.is_absolute() else self.retrieval.data_dir / path


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load and validate the configuration; raise :class:`SettingsError` naming a bad setting."""
    path = config_file or Path(os.environ.get("ARTISTBOT_CONFIG", DEFAULT_CONFIG))
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    _refuse_secrets(values, path)
    _refuse_unknown_variables()
    for section, items in overrides.items():
        values.setdefault(section, {}).update(items)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    root = path.parent.parent if path == DEFAULT_CONFIG else Path.cwd()
    return settings.model_copy(update={"retrieval": settings.retrieval.resolved(root)})


def token(variable: str) -> str | None:
    """A bot token from the environment, or ``None`` when unset or blank."""
    value = os.environ.get(variable, "").strip()
    return value or None


def _refuse_secrets(values: dict[str, Any], path: Path, prefix: str = "") -> None:
    """Refuse any key that looks like a secret, in any table however deeply nested."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if "token" in key.lower() or "secret" in key.lower():
            raise SettingsError(
                f"{path}: '{name}' looks like a secret; bot tokens come from the "
                f"environment only ({', '.join(TOKEN_VARIABLES)}), never from a file"
            )
        if isinstance(value, dict):
            _refuse_secrets(value, path, f"{name}.")


def _refuse_unknown_variables() -> None:
    sections = set(Settings.model_fields)
    for name in os.environ:
        if not name.startswith("ARTISTBOT_") or name == "ARTISTBOT_CONFIG":
            continue
        section = name.removeprefix("ARTISTBOT_").split("__", 1)[0].lower()
        if section not in sections or "__" not in name:
            raise SettingsError(
                f"unknown setting in the environment: {name} (expected ARTISTBOT_<SECTION>__<KEY>"
                f" with a section among {', '.join(sorted(sections))})"
            )


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"])
        env = "ARTISTBOT_" + "__".join(str(p).upper() for p in error["loc"])
        lines.append(f"invalid setting {name} (env {env}): {error['msg']}")
    return "; ".join(lines)
