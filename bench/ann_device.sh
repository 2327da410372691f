#!/usr/bin/env bash
# Runs the 1M ANN benchmark and the GPU tests on the lent GPU machine (see bench/README.md).
# Needs the carried folder .carry/dev (bench/make_carry.sh: FAISS + pydantic, fp16 MiniLM, this
# machine's extra sentences, the chat data) and eval/data moved out of the tree for the call
# (it travels compressed in .carry/dev instead, to stay under the 64 MiB a call may carry).
#   bash bench/ann_device.sh cpu         # 1M: flat, SPANN, IVF-Flat, HNSW on the CPU cores
#   bash bench/ann_device.sh tests gpu   # GPU tests + index suite; SPANN on CUDA, torch exact
# Results go to $OUT/ann-1m.json (+ .png), rewritten after every method.
# The corpus: this machine's sentences (bench/corpus.py --extra-sources) plus the carried ones.
# Caches (/tmp/site, /tmp/bench) survive between calls only while the machine stays warm.
set -euo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/bench
if [ ! -f /tmp/site/.done ]; then
  tar -C /tmp -xJf .carry/dev/site.tar.xz
  tar -C /tmp -xJf .carry/dev/shared_data.tar.xz
  python3 -m bench.carry unpack-model .carry/dev/minilm-fp16.tar.xz /tmp/model
  touch /tmp/site/.done
fi
export PYTHONPATH=/tmp/site:$PWD MEMSVC_SHARED_DATA=/tmp/data
NCPU=$(nproc)
RES="$OUT/ann-1m.json"
# A result from an earlier call travels in bench/results and is merged into.
[ -f bench/results/ann-1m.json ] && [ ! -f "$RES" ] && cp bench/results/ann-1m.json "$RES"
COMMON=(--n 1000000 --held 2000 --cache /tmp/bench --model /tmp/model/minilm-fp16
        --embed-device cuda --fp16 --embed-batch 1024 --workers "$NCPU" --threads "$NCPU"
        --extra-sources --text-file .carry/dev/sentences.txt.xz --single 200 --out "$RES"
        --nprobes 8,16,32,64,128,256,512 --probes 32,64,96,128,192,256)
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
