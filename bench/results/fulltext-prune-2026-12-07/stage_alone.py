import json, sys, time
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session
from memsvc.db.queries import fulltext
from memsvc.db import fulltext_terms
from memsvc.services.lexical import query_terms
eng = create_engine("sqlite:///" + sys.argv[1] + "/memsvc.db")
@event.listens_for(eng, "connect")
def c(d, r): fulltext_terms.register(d)
qs = json.load(open(sys.argv[1] + "/queries.json"))["queries"]
with Session(eng) as s:
    part = s.execute(text("select partition from notes limit 1")).scalar()
    n = s.execute(text("select count(*) from notes")).scalar()
    for rep in range(3):
        for mn, share in ((10**9, 0.01), (20000, 0.01)):
            fulltext.PRUNE_MIN_NOTES, fulltext.PRUNE_SHARE = mn, share
            ts = []
            for q in qs:
                t0 = time.perf_counter()
                fulltext.matches(s, partition=part, terms=query_terms(q), limit=50, notes=n)
                ts.append((time.perf_counter() - t0) * 1e3)
            ts.sort()
            print(mn, share, "p50 %.2f p95 %.2f" % (ts[49], ts[94]))
