"""All settings in one place.

Precedence, lowest first: defaults here < `dadong-qa.toml` in the working directory (or the
file named by DADONG_QA_CONFIG) < DADONG_QA_* environment variables < explicit arguments
(CLI flags, keyword arguments). Paths are relative to the working directory, as git's are.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_EMBEDDER = "use-multilingual-v3"
CONFIG_FILE = "dadong-qa.toml"
GENERATORS = ("extractive", "openai", "transformers")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # "use-multilingual-v3" (bundled, offline) or any sentence-transformers name or local path.
    embedder: str = DEFAULT_EMBEDDER
    embed_batch_size: int = 64

    # Where vectors live: "faiss" (files in index_dir, the default) or "milvus". For Milvus,
    # index_uri is a local file for Milvus Lite (empty: index_dir/milvus.db) or a server
    # address such as http://host:19530; see docs/benchmarks.md for when to switch.
    index_backend: str = "faiss"
    index_uri: str = ""

    # Seconds a change (build/add/remove) waits for another process changing the same index
    # before giving up with a clear message.
    lock_timeout: float = 600.0

    # Chunking: sentences per chunk and sentences shared by neighbouring chunks.
    chunk_sentences: int = 3
    chunk_overlap: int = 1
    chunk_max_chars: int = 400

    # Retrieval.
    top_k: int = 5  # passages returned with an answer
    candidates: int = 50  # per retriever, before fusion
    fusion: str = "weighted"  # "weighted" (score-level, calibrated) or "rrf"
    dense_weight: float = 0.5  # weight of dense similarity in weighted fusion
    rrf_k: int = 60
    # Optional cross-encoder (sentence-transformers name or local path); "" = off.
    reranker: str = ""
    rerank_top: int = 20  # fused candidates the reranker re-scores
    expand_queries: bool = True  # 同义词词林 + embedding-neighbour expansion of unseen question words

    # Answering.
    answer_passages: int = 8  # passages whose sentences compete to answer
    answer_sentences: int = 10  # plus this many sentences nearest to the question in meaning
    answer_docs: int = 2  # plus every sentence of the top passages' first this many articles
    max_answer_sentences: int = 3
    # Cite the answer sentence's neighbours it cannot be read without (answering/context.py): the
    # sentence before a "因此，…", the rest of a why / how / which-ones explanation. false = the
    # answer sentences alone (for comparison).
    answer_context: bool = True
    # The reader (answering/reader/): a fine-tuned cross-encoder reads the question with each of
    # the answer policy's first `reader_candidates` sentences; its probability decides. false =
    # the policy decides alone (the path before the reader, for comparison).
    reader: bool = True
    reader_model: str = ""  # folder with reader.safetensors + reader.json; "" = the shipped weights
    reader_candidates: int = 4
    # Of those, one whose policy probability is below this is not read once one that no rule
    # rules out is in: its score (logit + log-odds) almost never makes it the answer. Held out
    # (docs/quality.md), 0.1 left contains / refusal / precision as with 0 (CMRC +0.002 / 0 /
    # +0.001, DRCD and both silent versions within 0.001) and reads 1.8 sentences instead of 4:
    # p50 65 ms instead of 183-203 (1k articles, float32); 0.2 cost CMRC precision 0.005. 0 = all K.
    reader_min_policy: float = 0.1
    # The reader's logit plus this times the answer policy's log-odds is what the softmax over the
    # shortlist reads (docs/quality.md: measured on shortlists of a policy not trained on the file).
    reader_policy_weight: float = 1.0
    # Plus this times (the span head's best start + end logit - `reader_span_center`): a sentence
    # in which the reader finds a sure answer span is likelier to hold one. Measured on shortlists
    # of files neither the reader nor the policy trained on (docs/quality.md), at the same contains
    # it raised precision by 1.2-1.4 points and the silent version's by 1.3-1.7; chosen on either
    # file alone, the other gained too.
    reader_span_weight: float = 0.3
    reader_span_center: float = 8.0
    # torch threads for the reader. On the 2-core machine one thread reads 4 sentences in 166 ms
    # alone and two in 74 ms, but inside ask() two threads spin against the rest of the pipeline:
    # bench/reader_speed.py p50 132.6 ms with 2, 76.9 ms with 1 (reader off: 14.3 vs 9.7 ms).
    reader_threads: int = 1
    # Below this probability that the best sentence answers, the answer is "not in the sources".
    # The reader's probability (docs/quality.md: chosen on held-out data for precision). 0.65 for
    # the reader continued on DRCD (2026-12-07): at 0.60 it refused 0.895 of CMRC trial's silent
    # questions (precision 0.869); at 0.65 0.910 (0.879), with CMRC's regular view as before.
    refusal_threshold: float = 0.65
    # The same for the answer policy's probability, used instead when reader = false: 0.40 was the
    # lowest threshold with refusal >= 0.90 on both open-domain sets, each measured with a policy
    # not trained on it.
    policy_threshold: float = 0.40
    answer_policy: str = ""  # weights of the answer policy (JSON); "" = the shipped model
    max_question_chars: int = 500  # longer questions are rejected with a clear message
    history_turns: int = 3  # earlier user questions a follow-up is read against

    # Ingest.
    max_file_bytes: int = 20 * 1024 * 1024
    # Pages and feeds fetched by URL (`add URL`, `add --feed`). Private, loopback and link-local
    # addresses are refused unless allowed, so a URL cannot reach services behind the firewall.
    allow_private_urls: bool = False
    fetch_timeout: float = 15.0  # seconds for connecting, for each read, and for the whole download
    fetch_max_bytes: int = 5 * 1024 * 1024  # a news page is rarely above 1 MB
    fetch_max_redirects: int = 5
    # Near-duplicate articles (the same story republished with small edits): estimated Jaccard
    # similarity of 5-character shingles above which a new article is stored as another source
    # of an existing one. Edited copies of the seed articles measured 0.74-1.0, the two different
    # seed articles on one topic 0.0 (near_dup.py).
    near_duplicate_threshold: float = 0.7

    # Generative answers (optional). "extractive" (default: quote source sentences, no model),
    # "openai" (any OpenAI-compatible chat endpoint: vLLM, Ollama, llama.cpp server, hosted)
    # or "transformers" (a local causal LM on CPU). Generated answers are re-verified against
    # the passages and fall back to the extractive answer when they fail.
    generator: str = "extractive"
    llm_base_url: str = "http://127.0.0.1:11434/v1"  # Ollama's default; vLLM serves on :8000/v1
    llm_model: str = ""  # model name for "openai", model folder for "transformers"
    llm_api_key: str = field(default="", repr=False)  # also read from OPENAI_API_KEY
    llm_connect_timeout: float = 5.0  # seconds to connect to the endpoint
    llm_read_timeout: float = 60.0  # seconds without any output (first token included) before giving up
    llm_total_timeout: float = 120.0  # seconds for a whole generation, however it trickles in
    llm_max_tokens: int = 512
    llm_temperature: float = 0.1
    llm_passages: int = 5  # top passages numbered in the prompt
    # Share of a claim's character bigrams a cited sentence must contain to count as support.
    verify_min_overlap: float = 0.3

    # Chat app.
    server_host: str = "127.0.0.1"
    server_port: int = 7860
    concurrency: int = 2  # questions answered at once (the machine has few cores)
    queue_size: int = 64  # waiting requests beyond this are turned away at once (Gradio queue)

    # Editors and readers (auth.py, audit.py, feedback.py, ratelimit.py). `editors`: user names
    # with salted scrypt hashes (`dadong-qa editor add NAME` writes them); none = editing only
    # from the CLI, or in the UI of a server bound to a loopback address.
    editors: tuple[tuple[str, str], ...] = ()
    editor_session_minutes: float = 480.0  # an editor login lasts one working day
    login_delay: float = 1.0  # seconds after a failed login, doubled per failure in a row (cap 30)
    # Failed logins per user name and per client address in any `login_window` seconds; more are
    # refused without checking the password until the window has room (auth.LoginCheck).
    login_max_failures: int = 5
    login_window: float = 60.0
    audit_log: str = ""  # JSONL of every change; empty = logs/audit.jsonl beside index_dir
    reader_log: bool = True  # questions.jsonl + feedback.jsonl next to the audit log (no IP, no session)
    rate_limit: int = 30  # questions per client per minute in the chat and /ask; 0 = no limit
    examples: tuple[str, ...] = (
        "大东区2022年社会消费品零售总额是多少？",
        "大东区连续几年入选全国工业百强区？",
        # Not "华晨宝马工厂在哪里？": the articles never say where the plant is, and an example
        # question should show an answer; nor "…地区生产总值是多少？", which the shipped reader
        # refuses (docs/quality.md, issue 20).
        "大东区2022年规上工业增加值是多少？",
    )

    def __post_init__(self) -> None:
        if self.generator not in GENERATORS:
            raise ValueError(f"generator must be one of {', '.join(GENERATORS)}, not {self.generator!r}")

    def with_overrides(self, **overrides: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in clean:
                clean[key] = Path(clean[key])
        if "editors" in clean:
            clean["editors"] = parse_editors(clean["editors"])
        from dadong_qa.index.backends import BACKENDS  # here: the index package imports this module (embed.py)

        if clean.get("index_backend", self.index_backend) not in BACKENDS:
            raise ValueError(f"index_backend must be one of {', '.join(BACKENDS)}, not {clean['index_backend']!r}")
        return replace(self, **clean)


_ENV = {
    "DADONG_QA_CORPUS": "corpus_dir",
    "DADONG_QA_INDEX": "index_dir",
    "DADONG_QA_EMBEDDER": "embedder",
    "DADONG_QA_INDEX_BACKEND": "index_backend",
    "DADONG_QA_LOCK_TIMEOUT": "lock_timeout",
    "DADONG_QA_INDEX_URI": "index_uri",
    "DADONG_QA_REFUSAL_THRESHOLD": "refusal_threshold",
    "DADONG_QA_ANSWER_POLICY": "answer_policy",
    "DADONG_QA_DENSE_WEIGHT": "dense_weight",
    "DADONG_QA_TOP_K": "top_k",
    "DADONG_QA_READER": "reader",
    "DADONG_QA_ANSWER_CONTEXT": "answer_context",
    "DADONG_QA_READER_MODEL": "reader_model",
    "DADONG_QA_RERANKER": "reranker",
    "DADONG_QA_ALLOW_PRIVATE_URLS": "allow_private_urls",
    "DADONG_QA_GENERATOR": "generator",
    "DADONG_QA_LLM_BASE_URL": "llm_base_url",
    "DADONG_QA_LLM_MODEL": "llm_model",
    "DADONG_QA_LLM_API_KEY": "llm_api_key",
    "DADONG_QA_LLM_TIMEOUT": "llm_total_timeout",
    "DADONG_QA_EDITORS": "editors",
    "DADONG_QA_AUDIT_LOG": "audit_log",
    "DADONG_QA_READER_LOG": "reader_log",
    "DADONG_QA_RATE_LIMIT": "rate_limit",
    "GRADIO_SERVER_NAME": "server_host",
    "GRADIO_SERVER_PORT": "server_port",
}
# Lowest-precedence fallbacks (below the config file), so an existing OpenAI setup just works.
_ENV_FALLBACK = {"llm_api_key": "OPENAI_API_KEY"}


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _coerce(name: str, value: Any, where: str = "") -> Any:
    """`value` (a TOML value or an environment string) as the type of setting `name`.

    A value that is not of the setting's type raises ValueError naming `where` it came from
    (the config file or the environment variable), the setting and the expected type.
    """
    if name == "editors":
        return parse_editors(value)  # its own message, which does not echo the password hashes
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        return _convert(kind, value)
    except (TypeError, ValueError) as exc:
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}{name} {exc}, not {value!r}") from None


def _convert(kind: Any, value: Any) -> Any:
    if kind in ("int", int):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
    if kind in ("float", float):
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number") from None
    if kind in ("bool", bool):
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError("must be true or false (1/0, yes/no, on/off)")
        return word in _TRUE
    if kind in ("Path", Path):
        return Path(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def parse_editors(value: Any) -> tuple[tuple[str, str], ...]:
    """Editors from a TOML table {name = hash} or from DADONG_QA_EDITORS "name:hash,name:hash"."""
    if isinstance(value, str):
        pairs = [item.split(":", 1) for item in value.split(",") if item.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ValueError("DADONG_QA_EDITORS must look like name:hash,name:hash")
        value = {name.strip(): hash_.strip() for name, hash_ in pairs}
    if isinstance(value, dict):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    return tuple((str(k), str(v)) for k, v in value)


def config_path() -> Path:
    """The configuration file: DADONG_QA_CONFIG, else dadong-qa.toml in the working directory."""
    return Path(os.environ.get("DADONG_QA_CONFIG", CONFIG_FILE))


def load_settings(**overrides: Any) -> Settings:
    """Settings from defaults, config file, environment and `overrides`, in that order."""
    values: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        with path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path}: not valid TOML: {exc}") from None
        known = {f.name for f in fields(Settings)}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"{path}: unknown setting {key!r}")
            values[key] = _coerce(key, value, str(path))
    for key, env in _ENV_FALLBACK.items():
        if key not in values and os.environ.get(env):
            values[key] = _coerce(key, os.environ[env], env)
    for env, key in _ENV.items():
        if os.environ.get(env):
            values[key] = _coerce(key, os.environ[env], env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings().with_overrides(**values)
