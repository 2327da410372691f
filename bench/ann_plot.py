"""Recall-vs-latency and recall-vs-throughput plots of a bench/ann.py JSON result."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def plot(result: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw = result["dataset"]["base"] * result["dataset"]["dim"] * 4
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    for m in result["methods"]:
        pts = [p for p in m["points"] if p["recall"] is not None]
        label = f"{m['name']} (RAM {100 * m['ram_bytes'] / raw:.0f}% of fp32)"
        lat = [
            (p["p50_ms"], p["recall"])
            for p in pts
            if p["p50_ms"] is not None and not math.isnan(p["p50_ms"])
        ]
        if lat:
            ax1.plot([a for a, _ in lat], [b for _, b in lat], marker="o", label=label)
        ax2.plot([p["qps"] for p in pts], [p["recall"] for p in pts], marker="o", label=m["name"])
    for ax, xl in ((ax1, "single-query p50 latency (ms)"), (ax2, "batch throughput (queries/s)")):
        ax.set_xscale("log")
        ax.set_xlabel(xl)
        ax.set_ylabel("recall@10")
        ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
        ax.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8, loc="lower right")
    ax2.legend(fontsize=8, loc="lower left")
    ds = result["dataset"]
    title = f"{ds['base']:,} x {ds['dim']} MiniLM vectors, {ds['queries']:,} queries"
    fig.suptitle(f"{title} - {result['machine']['summary']}", fontsize=10)
    fig.tight_layout()
    tmp = out.with_name(out.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)


if __name__ == "__main__":
    import sys

    src = Path(sys.argv[1])
    plot(json.loads(src.read_text()), src.with_suffix(".png"))
