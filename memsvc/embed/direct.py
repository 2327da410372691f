"""Documents on a GPU without `SentenceTransformer.encode`'s per-batch Python machinery.

Why: on a GPU the forward pass of MiniLM over 256 texts takes a few milliseconds, but
`encode` spends far longer around it on the CPU, holding the interpreter lock: transformers'
tokenizer wrapper turns the Rust tokenizer's output into nested Python lists and back into
tensors (`flatten`, `as_tensor`: a tenth of all samples in the H100 ingest profile,
bench/README.md "GPU ingest"). Every millisecond there is a millisecond the GPU idles and the
ingest threads wait. Here the `tokenizers` library encodes the batch (Rust, in parallel,
without the lock), its ids go to the GPU as one array, and the pooled, normalised rows stay
on the GPU until the whole call is done, so the next batch is tokenised while the GPU still
works on this one.

It applies to models made of a Hugging Face transformer, mean pooling and (optionally)
normalisation, like all-MiniLM-L6-v2; `DirectEncoder.for_model` returns None for anything
else. The embedder checks it against `encode` on probe texts when it loads and keeps
`encode` if they ever disagree (`memsvc.embed.sentence`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from memsvc.embed.base import Vectors

log = logging.getLogger(__name__)

# Texts the loaded model encodes both ways before this path is trusted.
PROBES = (
    "I adopted a grey kitten from the shelter last week.",
    "  Leading and trailing spaces, a tab\there and a newline\nthere.  ",
    "Caroline: I went to the LGBTQ support group yesterday and it was so powerful! "
    "The stories people shared were inspiring, and I felt accepted. " * 8,
    "ok",
    "Ünïcödé, emoji 🙂 and 中文 characters",
)
# Largest |difference| accepted per coordinate of unit vectors against `encode`: fp16 on a
# GPU rounds at about 1e-3; any real mismatch (other tokens, other pooling) is far larger.
MAX_DIFF = 5e-3


class DirectEncoder:
    """Encodes texts like `SentenceTransformer.encode(normalize_embeddings=True)` for a
    transformer + mean pooling model. Not thread-safe: the embedder calls it under its lock."""

    def __init__(self, auto_model: Any, tokenizer: Any, device: Any) -> None:
        import torch

        self._torch = torch
        self._model = auto_model
        self._tok = tokenizer
        self._device = device
        # BERT-like models take segment ids (all zero for one text, as the tokenizer makes).
        self._types = "token_type_ids" in inspect.signature(auto_model.forward).parameters

    @classmethod
    def for_model(cls, model: Any, max_seq_length: int) -> DirectEncoder | None:
        """The encoder for a loaded SentenceTransformer, or None when its modules are not
        exactly transformer → mean pooling (→ normalize)."""
        try:
            modules = list(model)
            first = modules[0]
            auto = first.auto_model
            backend = first.tokenizer.backend_tokenizer
        except (AttributeError, IndexError, TypeError):
            return None
        if len(modules) not in (2, 3) or not _mean_pooling(modules[1]):
            return None
        if len(modules) == 3 and type(modules[2]).__name__ != "Normalize":
            return None
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(backend.to_str())
        tok.enable_truncation(max_seq_length, strategy="longest_first", stride=0)
        pad_id = first.tokenizer.pad_token_id or 0
        pad = first.tokenizer.pad_token or "[PAD]"
        tok.enable_padding(pad_id=pad_id, pad_token=pad)
        return cls(auto, tok, model.device)

    def encode(self, texts: Sequence[str], batch_size: int) -> Vectors:
        """Unit rows, float32, in the order of `texts`; `texts` should come grouped by
        length (each batch is padded to its longest text)."""
        pending = [self.start(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        if not pending:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate([self.finish(rows) for rows in pending])

    def start(self, texts: Sequence[str]) -> Any:
        """One batch's rows, left on the device: launching the next batch does not wait for
        this one (`finish` copies them back)."""
        torch = self._torch
        with torch.inference_mode():
            # sentence-transformers strips each text before tokenising it.
            encs = self._tok.encode_batch([t.strip() for t in texts])
            ids = torch.from_numpy(np.array([e.ids for e in encs], dtype=np.int64))
            mask = torch.from_numpy(np.array([e.attention_mask for e in encs], dtype=np.int64))
            ids = ids.to(self._device, non_blocking=True)
            mask = mask.to(self._device, non_blocking=True)
            kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            if self._types:
                kwargs["token_type_ids"] = torch.zeros_like(ids)
            hidden = self._model(**kwargs).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    @staticmethod
    def finish(rows: Any) -> Vectors:
        return np.ascontiguousarray(rows.float().cpu().numpy(), dtype=np.float32)


def _mean_pooling(module: Any) -> bool:
    """Whether a sentence-transformers Pooling module does plain mean pooling."""
    if type(module).__name__ != "Pooling":
        return False
    config = module.get_config_dict() if hasattr(module, "get_config_dict") else {}
    mode = config.get("pooling_mode")
    if mode is not None:  # sentence-transformers 6: one named mode
        return bool(mode == "mean" or mode == ["mean"])
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v]
    return others == ["pooling_mode_mean_tokens"]


def max_difference(direct: DirectEncoder, reference: Any, texts: Sequence[str] = PROBES) -> float:
    """Largest |coordinate difference| between this path and `reference(texts)` (encode)."""
    ours = direct.encode(list(texts), batch_size=len(texts))
    theirs = np.asarray(reference(list(texts)), dtype=np.float32)
    return float(np.abs(ours - theirs).max())


def load_checked(
    model: Any, max_seq_length: int, reference: Callable[[list[str]], Vectors]
) -> DirectEncoder | None:
    """The direct encoder for `model` once it has encoded the probe texts as `reference`
    (`encode`) does; None (keep `encode`) for another kind of model or any disagreement."""
    direct = DirectEncoder.for_model(model, max_seq_length)
    if direct is None:
        log.info("documents stay on encode: the model is not transformer + mean pooling")
        return None
    diff = max_difference(direct, reference)
    if diff > MAX_DIFF:
        log.error("direct document vectors differ from encode's by %.2g: using encode", diff)
        return None
    return direct
