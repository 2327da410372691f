"""memsvc's recall@10 on a `bench.peers` store, alone (no mem0): whether a change to the
search keeps what the 100k benchmark finds. Same questions and relevance as `bench.peers`'s
search phase (an evidence sentence of the question among the top 10); reinforcement off, so
the store is only read. Writes each question's top 10 note ids, so two trees' runs can be
compared question by question.

    PYTHONPATH=<tree> python -m bench.peers_recall --work /tmp/peers100k --n 100000 \\
        --fill .cache/peers-fill.txt.xz --out TOPS.json [--compare OTHER_TOPS.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.peers import USER, load, memsvc_store


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="bench.peers --work folder")
    ap.add_argument("--n", type=int, required=True, help="messages the store was built with")
    ap.add_argument("--fill", type=Path, default=None)
    ap.add_argument("--granularity", default="turn")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--compare", type=Path, default=None, help="another run's --out")
    args = ap.parse_args(argv)
    _, rel, questions, _ = load(args.n, args.fill)
    relevant: dict[int, set[int]] = {}
    for i, qs in enumerate(rel):
        for q in qs:
            relevant.setdefault(q, set()).add(i)
    where = {k: int(v) for k, v in json.loads((args.work / "memsvc-ids.json").read_text()).items()}
    mem = memsvc_store(args.work / "memsvc", None, "cpu", None, args.granularity)
    found, tops = 0, {}
    for qi in sorted(relevant):
        res = mem.search(questions[qi], user_id=USER, top_k=args.k, reinforce=False)
        hits = [{where[e] for e in h.episode_ids if e in where} for h in res.results]
        found += any(h & relevant[qi] for h in hits)
        tops[str(qi)] = [h.id for h in res.results]
    mem.close()
    out = {"questions": len(tops), f"recall@{args.k}": round(found / len(tops), 4), "tops": tops}
    args.out.write_text(json.dumps(out))
    line = f"{len(tops)} questions, recall@{args.k} {out[f'recall@{args.k}']}"
    if args.compare is not None:
        other = json.loads(args.compare.read_text())["tops"]
        same = sum(other.get(q) == ids for q, ids in tops.items())
        line += f", the same top {args.k} as {args.compare.name} for {same}"
    print(line)


if __name__ == "__main__":
    main()
