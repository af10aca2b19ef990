"""The one typed configuration: defaults, environment overrides, refusals that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import DEFAULT_CONFIG, Settings, SettingsError, load_settings, token
from retrieval import RetrievalSettings
from tests.core.conftest import ROOT

pytestmark = pytest.mark.usefixtures("clean_env")


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_come_from_the_shipped_config() -> None:
    shipped = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))

    settings = load_settings()

    retrieval = settings.retrieval
    for key in ("model", "backend", "threads", "index_type", "max_words", "top_k"):
        assert getattr(retrieval, key) == shipped["retrieval"][key], key
    assert retrieval.corpus_dir == ROOT / "corpus"  # relative to the project, not the cwd
    assert retrieval.data_dir == ROOT / "data"
    assert settings.chat.max_question_chars == shipped["chat"]["max_question_chars"]
    assert settings.feedback_path == ROOT / "data" / shipped["chat"]["feedback_db"]


def test_shipped_config_keeps_the_issue_limits() -> None:
    settings = load_settings()

    assert settings.retrieval.max_words <= 160
    assert settings.retrieval.backend == "onnx"


def test_environment_overrides_the_config_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, '[retrieval]\ntop_k = 7\nindex_type = "fp16"\n')
    clean_env.setenv("ARTISTBOT_RETRIEVAL__TOP_K", "5")

    settings = load_settings(config)

    assert settings.retrieval.top_k == 5
    assert settings.retrieval.index_type == "fp16"


def test_artistbot_config_variable_chooses_the_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, "[retrieval]\nmax_words = 120\n")
    clean_env.setenv("ARTISTBOT_CONFIG", str(config))

    assert load_settings().retrieval.max_words == 120


def test_environment_values_are_parsed(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ARTISTBOT_RETRIEVAL__INDEX_TYPE", "hnsw")
    clean_env.setenv("ARTISTBOT_TELEGRAM__ADMINS", "[11, 22]")
    clean_env.setenv("ARTISTBOT_CHAT__RATE_LIMIT_SECONDS", "2.5")

    settings = load_settings()

    assert settings.retrieval.index_type == "hnsw"
    assert settings.telegram.admins == (11, 22)
    assert settings.chat.rate_limit_seconds == 2.5


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("ARTISTBOT_RETRIEVAL__TOP_K", "zero", "retrieval.top_k"),
        ("ARTISTBOT_RETRIEVAL__TOP_K", "0", "retrieval.top_k"),
        ("ARTISTBOT_RETRIEVAL__TOP_K", "21", "retrieval.top_k"),
        ("ARTISTBOT_RETRIEVAL__MAX_WORDS", "10", "retrieval.max_words"),
        ("ARTISTBOT_RETRIEVAL__INDEX_TYPE", "annoy", "retrieval.index_type"),
        ("ARTISTBOT_RETRIEVAL__BACKEND", "cuda", "retrieval.backend"),
        ("ARTISTBOT_CHAT__RATE_LIMIT_SECONDS", "-1", "chat.rate_limit_seconds"),
        ("ARTISTBOT_CHAT__RATE_LIMIT_INLINE_QUERIES", "0", "chat.rate_limit_inline_queries"),
        ("ARTISTBOT_RETRIEVAL__TOPK", "3", "retrieval.topk"),
    ],
)
def test_invalid_environment_value_names_the_setting(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, setting: str
) -> None:
    clean_env.setenv(variable, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert setting in str(error.value)
    assert variable in str(error.value)


def test_misspelt_section_in_the_environment_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ARTISTBOT_RETRIEVALL__TOP_K", "5")

    with pytest.raises(SettingsError, match="RETRIEVALL"):
        load_settings()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[retrieval]\ntop_kk = 3\n", "retrieval.top_kk"),
        ("[retreival]\ntop_k = 3\n", "retreival"),
        ("[retrieval]\nmax_words = 1000\n", "retrieval.max_words"),
    ],
)
def test_invalid_config_file_names_the_setting(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        load_settings(write_config(tmp_path, text))


def test_config_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[retrieval\ntop_k = ")

    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(config)


@pytest.mark.parametrize(
    "text",
    [
        '[telegram]\ntoken = "123456:AAE-super-secret-value"\n',
        '[discord]\nbot_token = "123456:AAE-super-secret-value"\n',
        '[chat]\nclient_secret = "123456:AAE-super-secret-value"\n',
        'TELEGRAM_BOT_TOKEN = "123456:AAE-super-secret-value"\n',
    ],
)
def test_config_file_with_a_secret_is_refused_without_echoing_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(write_config(tmp_path, text))

    message = str(error.value)
    assert "environment" in message
    assert "super-secret-value" not in message


def test_secret_in_an_environment_setting_is_not_echoed(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ARTISTBOT_TELEGRAM__TOKEN", "123456:AAE-super-secret-value")

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert "telegram.token" in str(error.value)
    assert "super-secret-value" not in str(error.value)


def test_tokens_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    assert token("TELEGRAM_BOT_TOKEN") is None
    clean_env.setenv("TELEGRAM_BOT_TOKEN", "   ")
    assert token("TELEGRAM_BOT_TOKEN") is None
    clean_env.setenv("TELEGRAM_BOT_TOKEN", " 123:abc \n")
    assert token("TELEGRAM_BOT_TOKEN") == "123:abc"


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValidationError):
        settings.retrieval.top_k = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.retrieval = RetrievalSettings()  # type: ignore[misc]


def test_retrieval_settings_refuse_unknown_and_out_of_range_values() -> None:
    with pytest.raises(ValidationError, match="top_kk"):
        RetrievalSettings(top_kk=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="max_words"):
        RetrievalSettings(max_words=401)
    with pytest.raises(ValidationError, match="index_type"):
        RetrievalSettings(index_type="annoy")  # type: ignore[arg-type]


def test_resolved_keeps_absolute_paths_and_anchors_relative_ones(tmp_path: Path) -> None:
    settings = RetrievalSettings(corpus_dir=Path("stories"), data_dir=tmp_path / "data")

    resolved = settings.resolved(tmp_path / "project")

    assert resolved.corpus_dir == tmp_path / "project" / "stories"
    assert resolved.data_dir == tmp_path / "data"


def test_settings_object_matches_its_own_defaults() -> None:
    # The code's defaults and the shipped file agree, so leaving a key out changes nothing.
    from_file = load_settings().retrieval
    from_code = Settings().retrieval.resolved(ROOT)

    assert from_file == from_code
