#!/usr/bin/env bash
# One call on the lent GPU machine (see bench/README.md, "GPU ingest"): needs .carry/gpu
# (bench/make_gpu_carry.sh). Stages, each bounded so the call ends inside its 10 minutes:
#   ann     bench/ann.py at 100k on the 16 CPU cores: SPANN (batch path and the old per-query
#           loop, profiled), IVF-Flat, HNSW; the first 80k vectors come back (fp16) so the
#           same comparison can run on the 2-core machine
#   ingest  bench/gpu_ingest.py: the dev suites' turns through Memory on CUDA
# Results under $OUT (at most 8 files come back): vec/ (6 files), ann-100k-h200.json,
# gpu-ingest.json.
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}
C=.carry/gpu
mkdir -p "$OUT" /tmp/bench
tar -C /tmp -xJf "$C/site.tar.xz"
python3 -m bench.carry unpack-model "$C/minilm-fp16.tar.xz" /tmp/model >/dev/null
export PYTHONPATH=/tmp/site:$PWD MEMSVC_BENCH_MODEL=/tmp/model/minilm-fp16
NCPU=$(nproc)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
for phase in "$@"; do
  echo "== $phase at $(date +%T)"
  case "$phase" in
    ann)
      timeout "${ANN_S:-330}" python3 -m bench.ann --n 100000 --held 2000 --cache /tmp/bench \
        --model /tmp/model/minilm-fp16 --embed-device cuda --fp16 --embed-batch 1024 \
        --workers "$NCPU" --threads "$NCPU" --single 200 --out /tmp/bench/ann-100k-h200.json \
        --methods spann,ivf,hnsw --probes 16,32,64,96,128 --nprobes 16,32,64,128,256 \
        --efs 16,32,64,128 --profile-probe 64 --save-vectors "$OUT/vec" --save-n 80000 2>&1 \
        | grep --line-buffered -v "Loading weights"
      cp /tmp/bench/ann-100k-h200.json "$OUT/" || true
      ;;
    ingest)
      timeout "${INGEST_S:-240}" python3 -m bench.gpu_ingest --device cuda \
        --seconds "${INGEST_SECONDS:-120}" --workers "${WORKERS:-16}" --batch 256 \
        --locomo "$C/locomo10_dev5.json" --out "$OUT/gpu-ingest.json" 2>&1 \
        | grep --line-buffered -v "Loading weights"
      ;;
  esac
done
ls -la "$OUT" "$OUT/vec" 2>/dev/null
