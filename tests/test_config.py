"""Settings: defaults < dadong-qa.toml < DADONG_QA_* environment < explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from dadong_qa.config import _ENV, DEFAULT_EMBEDDER, Settings, config_path, load_settings, parse_editors


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory with no config file and no DADONG_QA_* / fallback variables set."""
    for env in [*_ENV, "DADONG_QA_CONFIG", "OPENAI_API_KEY"]:
        monkeypatch.delenv(env, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _toml(folder: Path, text: str, name: str = "dadong-qa.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    s = load_settings()
    assert s == Settings()
    assert s.corpus_dir == Path("corpus") and s.top_k == 5 and s.embedder == DEFAULT_EMBEDDER
    assert s.reader_log is True and s.editors == ()


def test_config_file_overrides_defaults(clean_env: Path) -> None:
    _toml(clean_env, 'top_k = 7\ndense_weight = 0.25\ncorpus_dir = "articles"\nreader_log = false\n')
    s = load_settings()
    assert s.top_k == 7 and s.dense_weight == 0.25 and s.reader_log is False
    assert s.corpus_dir == Path("articles")  # a Path, not a str
    assert s.index_dir == Path("index")  # untouched settings keep their defaults


def test_environment_overrides_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _toml(clean_env, "top_k = 7\nrate_limit = 10\n")
    monkeypatch.setenv("DADONG_QA_TOP_K", "9")
    s = load_settings()
    assert s.top_k == 9  # environment wins
    assert s.rate_limit == 10  # the file still counts for what the environment does not set


def test_overrides_win_over_environment_and_none_means_not_given(clean_env: Path, monkeypatch) -> None:
    _toml(clean_env, "top_k = 7\n")
    monkeypatch.setenv("DADONG_QA_TOP_K", "9")
    monkeypatch.setenv("DADONG_QA_INDEX", "env-index")
    s = load_settings(top_k=3, index_dir=None)
    assert s.top_k == 3
    assert s.index_dir == Path("env-index")  # None (an unset CLI flag) does not hide the environment


def test_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DADONG_QA_TOP_K", "")
    assert load_settings().top_k == Settings().top_k


def test_config_file_named_by_dadong_qa_config(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _toml(clean_env, "top_k = 7\n")  # the default file is not read when another one is named
    other = _toml(clean_env / "..", "top_k = 11\n", name="other-dadong.toml")
    monkeypatch.setenv("DADONG_QA_CONFIG", str(other))
    assert config_path() == other
    assert load_settings().top_k == 11


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DADONG_QA_REFUSAL_THRESHOLD", "0.55")
    monkeypatch.setenv("DADONG_QA_LOCK_TIMEOUT", "30")
    monkeypatch.setenv("DADONG_QA_CORPUS", "some/folder")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    s = load_settings()
    assert s.refusal_threshold == 0.55 and isinstance(s.refusal_threshold, float)
    assert s.lock_timeout == 30.0 and s.server_port == 8123
    assert s.corpus_dir == Path("some/folder")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("No", False)],
)
def test_boolean_words_from_the_environment(monkeypatch: pytest.MonkeyPatch, word: str, expected: bool) -> None:
    monkeypatch.setenv("DADONG_QA_READER_LOG", word)
    assert load_settings().reader_log is expected


def test_openai_api_key_is_a_fallback_below_the_config_file(clean_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai-env")
    assert load_settings().llm_api_key == "from-openai-env"
    _toml(clean_env, 'llm_api_key = "from-file"\n')
    assert load_settings().llm_api_key == "from-file"
    monkeypatch.setenv("DADONG_QA_LLM_API_KEY", "from-own-env")
    assert load_settings().llm_api_key == "from-own-env"
    assert "from-own-env" not in repr(load_settings())  # the key is kept out of logs


def test_editors_from_file_and_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _toml(clean_env, '[editors]\nbob = "scrypt$b"\nalice = "scrypt$a"\n')
    assert load_settings().editors == (("alice", "scrypt$a"), ("bob", "scrypt$b"))
    monkeypatch.setenv("DADONG_QA_EDITORS", "carol:scrypt$c:with:colons, dave:scrypt$d")
    assert load_settings().editors == (("carol", "scrypt$c:with:colons"), ("dave", "scrypt$d"))


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("env", "value", "words"),
    [
        ("DADONG_QA_TOP_K", "five", ["DADONG_QA_TOP_K", "top_k", "whole number", "'five'"]),
        ("DADONG_QA_TOP_K", "2.5", ["top_k", "whole number"]),
        ("DADONG_QA_DENSE_WEIGHT", "heavy", ["DADONG_QA_DENSE_WEIGHT", "dense_weight", "number", "'heavy'"]),
        ("DADONG_QA_READER_LOG", "maybe", ["DADONG_QA_READER_LOG", "reader_log", "true or false"]),
    ],
)
def test_bad_environment_value_names_variable_setting_and_type(monkeypatch, env: str, value: str, words) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError) as err:
        load_settings()
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('top_k = "many"', ["top_k", "whole number"]),
        ("top_k = 2.5", ["top_k", "whole number"]),
        ("top_k = true", ["top_k", "whole number"]),
        ('expand_queries = "sometimes"', ["expand_queries", "true or false"]),
        ("refusal_threshold = false", ["refusal_threshold", "number"]),
    ],
)
def test_bad_config_file_value_names_file_and_setting(clean_env: Path, line: str, words: list[str]) -> None:
    path = _toml(clean_env, line + "\n")
    with pytest.raises(ValueError) as err:
        load_settings()
    assert path.name in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_unknown_setting_in_config_file(clean_env: Path) -> None:
    _toml(clean_env, "top_kk = 3\n")
    with pytest.raises(ValueError, match="unknown setting 'top_kk'"):
        load_settings()


def test_broken_toml_names_the_file(clean_env: Path) -> None:
    path = _toml(clean_env, "top_k 3\n")
    with pytest.raises(ValueError, match="not valid TOML") as err:
        load_settings()
    assert path.name in str(err.value)


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"unknown setting.*colour"):
        load_settings(colour="blue")


def test_bad_generator_and_backend_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="generator must be one of extractive, openai, transformers"):
        load_settings(generator="gpt")
    monkeypatch.setenv("DADONG_QA_INDEX_BACKEND", "sqlite")
    with pytest.raises(ValueError, match=r"index_backend must be one of faiss, milvus.*'sqlite'"):
        load_settings()


def test_malformed_editors_variable_does_not_echo_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DADONG_QA_EDITORS", "alice-scrypt$secret")
    with pytest.raises(ValueError, match="name:hash") as err:
        load_settings()
    assert "secret" not in str(err.value)


def test_parse_editors_accepts_table_pairs_and_string() -> None:
    assert parse_editors({"b": "h2", "a": "h1"}) == (("a", "h1"), ("b", "h2"))
    assert parse_editors([("a", "h1")]) == (("a", "h1"),)
    assert parse_editors(" a : h1 ,, ") == (("a", "h1"),)


def test_with_overrides_keeps_the_original_and_converts_paths() -> None:
    base = Settings()
    changed = base.with_overrides(index_dir="elsewhere", top_k=2)
    assert changed.index_dir == Path("elsewhere") and changed.top_k == 2
    assert base.index_dir == Path("index") and base.top_k == 5  # frozen, unchanged
