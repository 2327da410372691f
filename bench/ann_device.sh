#!/usr/bin/env bash
# Runs the 1M ANN benchmark and the GPU tests on the lent GPU machine (see bench/README.md).
# Needs the carried folder .carry/dev (bench/make_carry.sh: FAISS + pydantic, fp16 MiniLM, this
# machine's extra sentences, the chat data) and eval/data moved out of the tree for the call
# (it travels compressed in .carry/dev instead, to stay under the 64 MiB a call may carry).
#   bash bench/ann_device.sh cpu         # 1M: flat, SPANN, IVF-Flat, HNSW on the CPU cores
#   bash bench/ann_device.sh tests gpu   # GPU tests + index suite; SPANN on CUDA, torch exact
# Results go to $OUT/$NAME.json (default ann-1m, + .png), rewritten after every method.
# N, METHODS, NPROBES, PROBES, SINGLE and PROFILE (a max_probe at which to cProfile SPANN's
# batch paths) narrow a run so that collecting, embedding and the methods fit one call.
# The corpus: this machine's sentences (bench/corpus.py --extra-sources) plus the carried ones.
# Caches (/tmp/site, /tmp/bench) survive between calls only while the machine stays warm.
set -euo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/bench
if [ ! -f /tmp/site/.done ]; then
  tar -C /tmp -xJf .carry/dev/site.tar.xz
  # Without the compressed copy (a carry slimmed to fit beside a tree that keeps eval/data,
  # bench/README.md), the chat data is read from the tree itself.
  if [ -f .carry/dev/shared_data.tar.xz ]; then tar -C /tmp -xJf .carry/dev/shared_data.tar.xz; fi
  python3 -m bench.carry unpack-model .carry/dev/minilm-fp16.tar.xz /tmp/model
  touch /tmp/site/.done
fi
DATA=/tmp/data
[ -d "$DATA" ] || DATA=$PWD/eval/data
export PYTHONPATH=/tmp/site:$PWD MEMSVC_SHARED_DATA=$DATA
NCPU=$(nproc)
RES="$OUT/${NAME:-ann-1m}.json"
# A result from an earlier call travels in bench/results and is merged into.
[ -f "bench/results/${NAME:-ann-1m}.json" ] && [ ! -f "$RES" ] && cp "bench/results/${NAME:-ann-1m}.json" "$RES"
COMMON=(--n "${N:-1000000}" --held 2000 --cache /tmp/bench --model /tmp/model/minilm-fp16
        --embed-device cuda --fp16 --embed-batch 1024 --workers "$NCPU" --threads "$NCPU"
        --extra-sources --text-file .carry/dev/sentences.txt.xz --single "${SINGLE:-200}"
        --out "$RES" --nprobes "${NPROBES:-8,16,32,64,128,256,512}"
        --probes "${PROBES:-32,64,96,128,192,256}" --profile-probe "${PROFILE:-0}")
for phase in "$@"; do
  echo "== $phase at $(date +%T)"
  case "$phase" in
    sigkill)
      python3 -m pytest tests/index --confcutdir=tests/index -q -rs -p no:cacheprovider \
        -k sigkill 2>&1 | tee "$OUT/tests-sigkill.txt" || true
      ;;
    tests)
      nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
      python3 -m pytest tests/index --confcutdir=tests/index -q -rs -p no:cacheprovider \
        -m "not slow" -k "not congruence" 2>&1 | tee "$OUT/tests.txt" || true
      ;;
    cpu)
      python3 -m bench.ann "${COMMON[@]}" --methods "${METHODS:-flat,spann,ivf,hnsw}" 2>&1 \
        | grep --line-buffered -v "Loading weights" | tee -a "$OUT/bench.log"
      ;;
    gpu)
      python3 -m bench.ann "${COMMON[@]}" --methods "${METHODS:-spann-gpu,gpu-exact-fp32,gpu-exact-fp16}" \
        2>&1 | grep --line-buffered -v "Loading weights" | tee -a "$OUT/bench.log"
      ;;
    *)
      echo "usage: $0 tests|sigkill|cpu|gpu ..." >&2
      exit 2
      ;;
  esac
done
