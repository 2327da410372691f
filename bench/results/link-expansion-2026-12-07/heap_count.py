import gc, json, sys, time
from pathlib import Path
import memsvc
from memsvc.config import Settings
from memsvc.local import Memory
store = Path(sys.argv[1])
qs = json.loads((store / "queries.json").read_text())["queries"]
mem = Memory(settings=Settings(data_dir=store, index={"save_interval_s": 3600.0, "follow_interval_s": 0.0}))
for q in qs[:30]:
    mem.search(q, user_id="bench-user", top_k=10, reinforce=False)
while getattr(mem.runtime.embedder, "documents_state", "loaded") == "loading":
    time.sleep(0.2)
ts = []
for _ in range(5):
    t = time.perf_counter(); gc.collect(); ts.append((time.perf_counter() - t) * 1000)
print(json.dumps({"memsvc": memsvc.__file__, "tracked_objects": len(gc.get_objects()), "full_collection_ms": sorted(ts)}))
mem.close()
