"""What the 1M ANN benchmark carries to the lent GPU machine, which can fetch nothing and takes
at most 64 MiB per call (see bench/README.md, "GPU machine").

    python -m bench.carry pack-model .carry/dev/minilm-fp16.tar.xz     # here
    python -m bench.carry sentences .carry/dev/sentences.txt.xz        # here
    python -m bench.carry unpack-model .carry/dev/minilm-fp16.tar.xz /tmp/model   # there

The model travels as all-MiniLM-L6-v2 with its weights cast to fp16 (what the GPU embeds with
anyway). xz alone gets that file from 45.4 to 41 MB; storing the high and the low byte of every
fp16 value as two separate planes lets it compress the high bytes (sign, exponent, top mantissa
bits: low entropy) on their own, 38.7 MB in all. Unpacking interleaves the planes back and checks
the SHA-256 of the rebuilt file, so the weights are bit-for-bit the fp16 cast.

The sentences are real text of this machine that the GPU machine lacks (its CUDA image has
almost no man pages or /usr/share/doc): the GPU machine's own text yields ~444k distinct
sentences, short of the 1M the benchmark asks for. Only numpy and the standard library are
imported here, so this runs before anything is installed there."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import shutil
import struct
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

# Packages installed here (memsvc's own dependencies and dev tools) that the GPU image lacks
# (its package list: /work/.library/device/KINDS.md); packages both have are left out, since
# their docstrings would only repeat sentences the GPU machine finds itself.
ONLY_HERE = (
    "alembic",
    "boto3",
    "botocore",
    "fastapi",
    "faiss",
    "litellm",
    "mypy",
    "mypyc",
    "openai",
    "psycopg",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "s3transfer",
    "sqlalchemy",
    "starlette",
    "uvicorn",
)
SYSTEM_ROOTS = ("/usr/share/doc", "/usr/share/man", "/usr/include")
_PLANES = ("weights.header", "weights.hi", "weights.lo", "weights.sha256")


def split_planes(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """A safetensors file of fp16 tensors -> (header, high bytes, low bytes) of its data."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = blob[: 8 + n]
    meta = json.loads(header[8:])
    dtypes = {v["dtype"] for k, v in meta.items() if k != "__metadata__"}
    if dtypes != {"F16"}:
        raise ValueError(f"expected only F16 tensors, got {sorted(dtypes)}")
    data = np.frombuffer(blob, dtype=np.uint8, offset=8 + n)
    if data.size % 2:
        raise ValueError("fp16 data of odd length")
    pairs = data.reshape(-1, 2)  # little-endian: byte 0 low, byte 1 high
    return header, pairs[:, 1].tobytes(), pairs[:, 0].tobytes()


def join_planes(header: bytes, hi: bytes, lo: bytes) -> bytes:
    if len(hi) != len(lo):
        raise ValueError("byte planes of different length")
    pairs = np.empty((len(hi), 2), dtype=np.uint8)
    pairs[:, 0] = np.frombuffer(lo, dtype=np.uint8)
    pairs[:, 1] = np.frombuffer(hi, dtype=np.uint8)
    return header + pairs.tobytes()


def fp16_safetensors(src: Path) -> bytes:
    """The safetensors file at `src` with every floating tensor cast to fp16."""
    from safetensors.numpy import load_file, save

    tensors = {k: np.ascontiguousarray(v.astype(np.float16)) for k, v in load_file(src).items()}
    return save(tensors, metadata={"format": "pt"})


def pack_model(model_dir: Path, out: Path) -> None:
    blob = fp16_safetensors(model_dir / "model.safetensors")
    header, hi, lo = split_planes(blob)
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "minilm-fp16"
        shutil.copytree(
            model_dir, dst, ignore=shutil.ignore_patterns("model.safetensors", "*.md", ".git*")
        )
        for name, data in zip(
            _PLANES, (header, hi, lo, hashlib.sha256(blob).hexdigest().encode()), strict=True
        ):
            (dst / name).write_bytes(data)
        _write_txz(out, dst)


def unpack_model(archive: Path, dest: Path) -> Path:
    """Extract into `dest` and rebuild model.safetensors; returns the model folder."""
    with tarfile.open(archive, "r:xz") as tar:
        tar.extractall(dest, filter="data")
    folder = dest / "minilm-fp16"
    header, hi, lo, digest = ((folder / name).read_bytes() for name in _PLANES)
    blob = join_planes(header, hi, lo)
    if hashlib.sha256(blob).hexdigest().encode() != digest:
        raise SystemExit("rebuilt model.safetensors does not match its SHA-256")
    (folder / "model.safetensors").write_bytes(blob)
    for name in _PLANES:
        (folder / name).unlink()
    return folder


def carried_sentences() -> list[str]:
    """This machine's sentences from system text and ONLY_HERE packages, sorted (sorted lines
    compress better, and the benchmark shuffles them anyway)."""
    from bench import corpus

    roots = [Path(r) for r in SYSTEM_ROOTS if Path(r).is_dir()]
    for p in sys.path:
        site = Path(p)
        if p.endswith("-packages") and site.is_dir():
            roots += [site / name for name in ONLY_HERE if (site / name).is_dir()]
    return sorted(corpus.collect(sys.maxsize, roots=roots, extra=True, chat=False))


def write_sentences(out: Path, limit: int) -> int:
    """Write up to `limit` of them (a seeded sample, so the call stays under its 64 MiB)."""
    sents = carried_sentences()
    if len(sents) > limit:
        pick = np.random.default_rng(0).choice(len(sents), limit, replace=False)
        sents = [sents[i] for i in np.sort(pick)]
    text = "".join(s.replace("\n", " ") + "\n" for s in sents).encode()
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(lzma.compress(text, preset=9 | lzma.PRESET_EXTREME))
    tmp.replace(out)
    return len(sents)


def _write_txz(out: Path, folder: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=folder.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    tmp.replace(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pm = sub.add_parser("pack-model")
    pm.add_argument("out", type=Path)
    pm.add_argument("--model", type=Path, default=None, help="default: the bundled MiniLM")
    um = sub.add_parser("unpack-model")
    um.add_argument("archive", type=Path)
    um.add_argument("dest", type=Path)
    se = sub.add_parser("sentences")
    se.add_argument("out", type=Path)
    se.add_argument("--limit", type=int, default=620_000)
    args = ap.parse_args(argv)
    if args.cmd == "pack-model":
        from bench.corpus import default_model_path

        pack_model(args.model or Path(default_model_path()), args.out)
        print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")
    elif args.cmd == "unpack-model":
        print(unpack_model(args.archive, args.dest))
    else:
        n = write_sentences(args.out, args.limit)
        print(f"{args.out}: {n} sentences, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
