#!/usr/bin/env bash
# bench/peers.py on the lent GPU machine in one call (see bench/README.md, "memsvc beside mem0"):
# needs .carry/peers (bash bench/make_peers_carry.sh). Builds both stores at once on all cores
# with the GPU (memsvc: embed.device=cuda, fp16; mem0: its batch table encoded on CUDA), then
# searches pinned to 2 cores (taskset -c 0,1, 2 torch / ONNX / BLAS threads) with the query
# embedding on the CPU, as on the 2-core dev machine.
#   N=100000 BUILD_S=420 bash bench/peers_device.sh      # there: run(carry=[".carry/peers"])
# Results under $OUT: peers-device.json (search), build-*.json and the logs.
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false MEM0_TELEMETRY=False
OUT=${OUT:-/tmp/out}
N=${N:-100000}
C=$PWD/.carry/peers
mkdir -p "$OUT"
t0=$(date +%s)
rm -rf /tmp/model /tmp/peers-work /tmp/memsvc-head  # a warm machine keeps /tmp
tar -C /tmp -xJf "$C/site.tar.xz" && tar -C /tmp -xJf "$C/memsvc.tar.xz" || exit 1
rm -rf memsvc && cp -r /tmp/memsvc-head/memsvc memsvc || exit 1  # the committed memsvc (HEAD)
export PYTHONPATH=/tmp/site:$PWD
python3 -m bench.carry unpack-model "$C/minilm-fp16.tar.xz" /tmp/model >/dev/null || exit 1
# Both systems load the same weights in fp32 on the CPU (the fp16 cast, widened back).
python3 - <<'PY' || exit 1
import shutil
from safetensors.numpy import load_file, save_file
shutil.copytree("/tmp/model/minilm-fp16", "/tmp/model/minilm")
t = load_file("/tmp/model/minilm-fp16/model.safetensors")
save_file({k: v.astype("float32") for k, v in t.items()}, "/tmp/model/minilm/model.safetensors",
          metadata={"format": "pt"})
PY
M=/tmp/model/minilm
W=/tmp/peers-work
echo "setup $(( $(date +%s) - t0 ))s; memsvc $(cat /tmp/memsvc-head/COMMIT); $(nproc) cores"
nvidia-smi --query-gpu=name --format=csv,noheader
common=(--n "$N" --fill "$C/fill.txt.xz" --work "$W" --model "$M" --batch "${BATCH:-50}")
for s in memsvc mem0; do
  timeout "${BUILD_S:-420}" python3 -m bench.peers "${common[@]}" --phase build --systems $s \
    --build-device cuda --out "$OUT/build-$s.json" >"$OUT/build-$s.log" 2>&1 &
done
wait
grep -v '^ \|^[{}]' "$OUT"/build-*.log | grep -v "Loading weights" | tail -n 20
echo "built at $(( $(date +%s) - t0 ))s"
[ -f "$W/memsvc-ids.json" ] && [ -f "$W/mem0-ids.json" ] || { echo "build incomplete"; exit 1; }
OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 timeout "${SEARCH_S:-240}" \
  taskset -c 0,1 python3 -m bench.peers "${common[@]}" --phase search --threads 2 \
  --label "H200 host, 2 cores pinned (taskset -c 0,1); stores built with the GPU" \
  --out "$OUT/peers-device.json" 2>&1 | grep -v "Loading weights" | tee "$OUT/search.log"
echo "done at $(( $(date +%s) - t0 ))s"
lscpu | grep -E "Model name|MHz" | head -3
