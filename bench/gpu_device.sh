#!/usr/bin/env bash
# One call on the lent GPU machine (see bench/README.md, "GPU ingest"): needs .carry/gpu
# (bench/make_gpu_carry.sh). Phases, each bounded so the call ends inside its 10 minutes:
#   ann       bench/ann.py at 100k on the 16 CPU cores: SPANN (batch path and the old
#             per-query loop, profiled), IVF-Flat, HNSW; the first 80k vectors come back (fp16)
#   before    bench/gpu_ingest.py with the baseline's memsvc package (BASE of make_gpu_carry.sh)
#   profile-before  the same under py-spy (see profile)
#   ingest    bench/gpu_ingest.py: the dev suites' turns through Memory on CUDA, this tree
#   ingest-encode the same with documents through SentenceTransformer.encode (not the direct path)
#   ingest-proc   the same with documents embedded in a child process
#   ingest-w4     the same with 4 ingest threads instead of WORKERS
#   ingest-b1024  the same with document batches of 1,024 (embed.batch_size, micro_batch_max)
#   pN        N ingest processes on one database (--processes N), each PW threads (default 1;
#             4 before 2026-12-06 eighth, when one thread a process measured 30-45 % faster)
#             and PCW attribute workers (default 0), PSET more settings ("a.b=1 c.d=x");
#             pN-distinct: the same with --distinct; pN-wK: K threads a process instead of PW;
#             pN-sK: K sessions a call through add_many (--sessions-per-add K);
#             before-pN[-wK][-distinct]: with the baseline
#   contexts  bench/gpu_contexts.py: the embedder alone driven by N processes with batches of B
#             (CTX, default 1x256,1x32,16x32,16x256; CTX_S seconds each, default 12)
#   profile   the same under py-spy (all threads and the attribute worker processes, on-CPU
#             samples, raw collapsed stacks; bench/pyspy_top.py reads them)
#   distinct  this tree, each distinct session once (--distinct)
#   eval      both dev suites' eval (LongMemEval dev, LoCoMo dev5) on CUDA, timed
#   eval-cpu  both dev suites' eval on the 16 CPU cores (no GPU: embed.device=cpu), a cold
#             embedding cache, per-question results (results.jsonl) packed into $OUT;
#             before-eval-cpu: the same with the baseline's memsvc package. For A/B of a
#             change on the CPU path (eval/probes/compare_hits.py reads the unpacked runs)
#   ingest-cpu2  bench/ingest_profile.py pinned to 2 cores (taskset, 2 threads), the
#             baseline's memsvc and this tree alternating, RUNS (2) each, N_MSGS (2000)
# Env: INGEST_SECONDS (ingest stops starting sessions after it), WORKERS (threads), EVAL_SPA
# (the eval's --sessions-per-add),
# CPU_WORKERS (ingest.cpu_workers of this tree's runs). Results under $OUT (at most 8 files).
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
OUT=${OUT:-/tmp/out}
C=.carry/gpu
mkdir -p "$OUT" /tmp/bench
tar -C /tmp -xJf "$C/site.tar.xz"
python3 -m bench.carry unpack-model "$C/minilm-fp16.tar.xz" /tmp/model >/dev/null
xz -dc "$C/locomo10_dev5.json.xz" >/tmp/locomo10_dev5.json
export PYTHONPATH=/tmp/site:$PWD MEMSVC_BENCH_MODEL=/tmp/model/minilm-fp16
NCPU=$(nproc)
SECONDS_=${INGEST_SECONDS:-60}
W=${WORKERS:-16}
CW=${CPU_WORKERS:-12}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
lscpu | grep -E "Model name|^CPU\(s\)"
ingest() {  # ingest OUTFILE [gpu_ingest args...]
  local out=$1
  shift
  timeout 240 python3 -m bench.gpu_ingest --device cuda --seconds "$SECONDS_" --workers "$W" \
    --batch 256 --locomo /tmp/locomo10_dev5.json --out "$out" "$@" 2>&1 |
    grep --line-buffered -v "Loading weights" | grep -v "leaked semaphore\|warnings.warn" | tail -6
}
profile() {  # profile OUTFILE [gpu_ingest args...]: the ingest phase under py-spy
  local out=$1
  shift
  /tmp/site/bin/py-spy record --subprocesses --threads --rate 50 --format raw --output "$out" \
    -- python3 -m bench.gpu_ingest --device cuda --seconds "$SECONDS_" --workers "$W" \
    --batch 256 --locomo /tmp/locomo10_dev5.json --out /tmp/bench/profiled.json "$@" 2>&1 |
    grep -v "Loading weights" | tail -3
}
before_tree() {  # this tree's bench and eval with the baseline's memsvc package
  if [ ! -d /tmp/before/memsvc ]; then
    mkdir -p /tmp/before && tar -C /tmp/before -xJf "$C/before-memsvc.tar.xz"
  fi
  # Always this call's bench and eval: a warm machine keeps /tmp from an earlier call.
  rm -rf /tmp/before/bench /tmp/before/eval && cp -r bench eval /tmp/before/
  echo /tmp/before
}
processes() {  # processes pN[-wK][-sK][-distinct] OUTFILE: N ingest processes on one database
  local n=${1#p} extra=() threads=${PW:-1}
  n=${n%%-*}
  case "$1" in *-distinct) extra=(--distinct) ;; esac
  if [[ $1 =~ -w([0-9]+) ]]; then threads=${BASH_REMATCH[1]}; fi
  if [[ $1 =~ -s([0-9]+) ]]; then extra+=(--sessions-per-add "${BASH_REMATCH[1]}"); fi
  # shellcheck disable=SC2086  # PSET: more settings, space-separated (word-split on purpose)
  W=$threads ingest "$2" --processes "$n" --no-alone "${extra[@]}" \
    --set "ingest.cpu_workers=${PCW:-0}" ${PSET:-}
}
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
    before)
      (cd "$(before_tree)" && export PYTHONPATH=/tmp/site:/tmp/before &&
        ingest "$OUT/gpu-ingest-before.json")
      ;;
    profile-before)
      (cd "$(before_tree)" && export PYTHONPATH=/tmp/site:/tmp/before &&
        profile "$OUT/pyspy-before.txt")
      ;;
    ingest)
      ingest "$OUT/gpu-ingest-after.json" --set "ingest.cpu_workers=$CW"
      ;;
    ingest-encode)  # documents through SentenceTransformer.encode: the direct path's baseline
      ingest "$OUT/gpu-ingest-encode.json" --set "ingest.cpu_workers=$CW" embed.documents_engine=encode
      ;;
    ingest-proc)  # documents embedded in a child process (embed.documents_process=on)
      ingest "$OUT/gpu-ingest-proc.json" --set "ingest.cpu_workers=$CW" embed.documents_process=on
      ;;
    ingest-w4)  # four ingest threads instead of 16: less contention for the interpreter lock
      W=4 ingest "$OUT/gpu-ingest-w4.json" --set "ingest.cpu_workers=$CW"
      ;;
    ingest-b1024)  # larger document batches on the GPU (encode and micro-batcher)
      ingest "$OUT/gpu-ingest-b1024.json" --batch 1024 \
        --set "ingest.cpu_workers=$CW" embed.micro_batch_max=1024
      ;;
    p[0-9]*)  # pN or pN-distinct: N ingest processes, one database
      processes "$phase" "$OUT/gpu-ingest-$phase.json"
      ;;
    before-p[0-9]*)  # the same with the baseline's memsvc package
      (cd "$(before_tree)" && export PYTHONPATH=/tmp/site:/tmp/before &&
        processes "${phase#before-}" "$OUT/gpu-ingest-$phase.json")
      ;;
    contexts)
      timeout 450 python3 -m bench.gpu_contexts --configs "${CTX:-1x256,1x32,16x32,16x256}" \
        --seconds "${CTX_S:-12}" --locomo /tmp/locomo10_dev5.json --out "$OUT/gpu-contexts.json" \
        2>&1 | grep --line-buffered -v "Loading weights"
      ;;
    profile)
      profile "$OUT/pyspy-after.txt" --set "ingest.cpu_workers=$CW"
      ;;
    distinct)
      ingest "$OUT/gpu-ingest-distinct.json" --distinct --set "ingest.cpu_workers=$CW"
      ;;
    eval)
      for suite in longmemeval locomo; do
        args=(--suite dev)
        [ "$suite" = locomo ] && args=(--data /tmp/locomo10_dev5.json)
        start=$(date +%s)
        PYTHONPATH=$PYTHONPATH:$PWD/eval timeout "${EVAL_S:-280}" python3 -m memsvc_eval \
          "$suite" "${args[@]}" --out "/tmp/ev-$suite" --device cuda --workers "$W" \
          --cache /tmp/evcache --no-progress --no-plots \
          --set "embed.model=/tmp/model/minilm-fp16" --set "embed.batch_size=256" \
          --set "ingest.cpu_workers=$CW" ${EVAL_SPA:+--sessions-per-add "$EVAL_SPA"} 2>&1 |
          grep -v "Loading weights" | tail -6
        echo "eval $suite wall $(($(date +%s) - start)) s"
        cp "/tmp/ev-$suite/report.json" "$OUT/eval-$suite-report.json" 2>/dev/null || true
      done
      ;;
    ingest-cpu2)
      for i in $(seq 1 "${RUNS:-2}"); do
        for side in before after; do
          tree=$PWD
          [ "$side" = before ] && tree=$(before_tree)
          (cd "$tree" && export PYTHONPATH=/tmp/site:$tree OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 &&
            timeout 280 taskset -c 0,1 python3 -m bench.ingest_profile "${N_MSGS:-2000}" \
              --threads 2 --model /tmp/model/minilm-fp16 --no-profile \
              --json "$OUT/ingest-cpu2-$side-$i.json" 2>&1 | grep -E '"(ingest_messages_per_s|alone_messages_texts_per_s|ratio_vs_messages|ratio_vs_messages_encode|documents_engine)"')
        done
      done
      ;;
    eval-cpu | before-eval-cpu)
      tree=$PWD
      [ "$phase" = before-eval-cpu ] && tree=$(before_tree)
      (cd "$tree" && export PYTHONPATH=/tmp/site:$tree:$tree/eval &&
        for suite in longmemeval locomo; do
          args=(--suite dev)
          [ "$suite" = locomo ] && args=(--data /tmp/locomo10_dev5.json)
          start=$(date +%s)
          timeout "${EVAL_S:-250}" python3 -m memsvc_eval "$suite" "${args[@]}" \
            --out "/tmp/$phase/$suite" --device cpu --workers "$W" --baselines "" \
            --cache "/tmp/$phase-cache" --no-progress --no-plots \
            --set "embed.model=/tmp/model/minilm-fp16" 2>&1 | grep -v "Loading weights" | tail -4
          echo "$phase $suite wall $(($(date +%s) - start)) s"
        done)
      tar -C /tmp -cJf "$OUT/$phase.tar.xz" --exclude=data --exclude=scopes "$phase"
      ;;
  esac
done
ls -la "$OUT"
