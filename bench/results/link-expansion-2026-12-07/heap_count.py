"""The heap of a process that opened a store and searched it (bench/README.md, "2026-12-07
(fourth)"): tracked objects and the time of a full collection.

    cd TREE && HF_HUB_OFFLINE=1 PYTHONPATH=TREE python heap_count.py /tmp/peers100k/memsvc
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import memsvc
from memsvc.config import Settings
from memsvc.local import Memory

store = Path(sys.argv[1])
queries = json.loads((store / "queries.json").read_text())["queries"]
settings = Settings(data_dir=store, index={"save_interval_s": 3600.0, "follow_interval_s": 0.0})
mem = Memory(settings=settings)
for q in queries[:30]:
    mem.search(q, user_id="bench-user", top_k=10, reinforce=False)
while getattr(mem.runtime.embedder, "documents_state", "loaded") == "loading":
    time.sleep(0.2)
ms = []
for _ in range(5):
    t = time.perf_counter()
    gc.collect()
    ms.append((time.perf_counter() - t) * 1000)
out = {"memsvc": memsvc.__file__, "tracked_objects": len(gc.get_objects())}
print(json.dumps(out | {"full_collection_ms": sorted(ms)}))
mem.close()
