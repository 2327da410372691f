#!/usr/bin/env bash
# Runs the 1M ANN benchmark and the GPU tests on the lent GPU machine (see bench/README.md).
# Needs the carried folder .carry/dev (FAISS + pydantic wheels, fp16 MiniLM, the chat data).
#   bash bench/ann_device.sh tests cpu   # GPU tests + index suite; then 1M flat/IVF/SPANN (CPU)
#   bash bench/ann_device.sh gpu         # HNSW, SPANN on CUDA, exact torch search (METHODS=...)
# Results go to $OUT/ann-1m.json (+ .png), rewritten after every method.
# Caches (/tmp/site, /tmp/bench) survive between calls only while the machine stays warm.
set -euo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/bench
if [ ! -f /tmp/site/.done ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .carry/dev/*.whl
  mkdir -p /tmp/model /tmp/data
  tar -C /tmp/model -xJf .carry/dev/minilm-fp16.tar.xz
  tar -C /tmp/data -xJf .carry/dev/shared_data.tar.xz
  touch /tmp/site/.done
fi
export PYTHONPATH=/tmp/site:$PWD MEMSVC_SHARED_DATA=/tmp/data
NCPU=$(nproc)
RES="$OUT/ann-device.json"
# A result from an earlier call travels in bench/results and is merged into.
[ -f bench/results/ann-device.json ] && [ ! -f "$RES" ] && cp bench/results/ann-device.json "$RES"
COMMON=(--n 1000000 --held 2000 --cache /tmp/bench --model /tmp/model/minilm-fp16
        --embed-device cuda --fp16 --embed-batch 1024 --workers "$NCPU" --threads "$NCPU"
        --extra-sources --single 200 --out "$RES" --nprobes 4,8,16,32,64,128,256
        --probes 16,32,64,96,128,192,256)
for phase in "$@"; do
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
      python3 -m bench.ann "${COMMON[@]}" --methods "${METHODS:-flat,spann,ivf}" 2>&1 \
        | grep --line-buffered -v "Loading weights" | tee -a "$OUT/bench.log"
      ;;
    gpu)
      python3 -m bench.ann "${COMMON[@]}" --methods "${METHODS:-hnsw,spann-gpu,gpu-exact-fp32,gpu-exact-fp16}" \
        2>&1 | grep --line-buffered -v "Loading weights" | tee -a "$OUT/bench.log"
      ;;
    *)
      echo "usage: $0 tests|sigkill|cpu|gpu ..." >&2
      exit 2
      ;;
  esac
done
