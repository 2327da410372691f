"""bench/carry.py and the text-file source of bench/corpus.py: what the GPU benchmark carries."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save, save_file

from bench import carry, corpus


def _model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    rng = np.random.default_rng(0)
    save_file(
        {
            "a.weight": rng.standard_normal((7, 5)).astype(np.float32),
            "b.bias": rng.standard_normal(3).astype(np.float32),
        },
        folder / "model.safetensors",
    )
    (folder / "config.json").write_text("{}")
    (folder / "README.md").write_text("left behind")
    return folder


def test_byte_planes_round_trip_and_reject_other_dtypes() -> None:
    blob = save({"w": np.arange(-6, 6, dtype=np.float16).reshape(3, 4)})
    header, hi, lo = carry.split_planes(blob)
    assert len(hi) == len(lo) == 12
    assert carry.join_planes(header, hi, lo) == blob
    with pytest.raises(ValueError, match="F16"):
        carry.split_planes(save({"w": np.ones(3, dtype=np.float32)}))
    with pytest.raises(ValueError, match="length"):
        carry.join_planes(header, hi, lo[:-1])


def test_pack_then_unpack_gives_the_fp16_weights(tmp_path: Path) -> None:
    src = _model_dir(tmp_path)
    archive = tmp_path / "m.tar.xz"
    carry.pack_model(src, archive)
    folder = carry.unpack_model(archive, tmp_path / "out")
    got = load_file(folder / "model.safetensors")
    want = load_file(src / "model.safetensors")
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k].dtype == np.float16
        np.testing.assert_array_equal(got[k], v.astype(np.float16))
    assert (folder / "config.json").exists() and not (folder / "README.md").exists()
    assert not list(folder.glob("weights.*"))


def test_unpack_refuses_a_corrupted_plane(tmp_path: Path) -> None:
    src = _model_dir(tmp_path)
    archive = tmp_path / "m.tar.xz"
    carry.pack_model(src, archive)
    # Re-pack with one flipped byte in the low plane: the checksum must catch it.
    unpacked = tmp_path / "raw"
    import tarfile

    with tarfile.open(archive, "r:xz") as tar:
        tar.extractall(unpacked, filter="data")
    lo = unpacked / "minilm-fp16" / "weights.lo"
    data = bytearray(lo.read_bytes())
    data[0] ^= 1
    lo.write_bytes(bytes(data))
    carry._write_txz(archive, unpacked / "minilm-fp16")
    with pytest.raises(SystemExit, match="SHA-256"):
        carry.unpack_model(archive, tmp_path / "out")


def test_text_file_sentences_join_the_corpus_deduped(tmp_path: Path) -> None:
    doc = tmp_path / "docs"
    doc.mkdir()
    (doc / "a.txt").write_text("The quick brown fox jumps over the lazy dog today.\n")
    lines = [
        "the quick brown fox jumps over the lazy dog today.",  # a duplicate, other case
        "A memory service keeps what agents learn across many sessions.",
        "too short",
    ]
    text = tmp_path / "more.txt.xz"
    text.write_bytes(lzma.compress(("\n".join(lines) + "\n").encode()))
    assert list(corpus.read_sentences(text)) == [lines[0], lines[1]]
    stats: dict[str, int] = {}
    got = corpus.collect(10**6, roots=[doc], text_file=text, stats=stats)
    assert stats["from_text_file"] == 1
    assert stats["from_this_machine"] == len(got) - 1
    assert lines[1] in got
    assert sum(s.lower() == lines[0] for s in got) == 1
