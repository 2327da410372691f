"""PNG plots for the report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .results import QuestionResult

RECALL_PNG, LATENCY_PNG = "recall_at_k.png", "latency.png"


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def write_plots(report: dict[str, Any], results: list[QuestionResult], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks: list[int] = report["ks"]
    systems: dict[str, Any] = report["systems"]
    types = sorted({t for s in systems.values() for t in s["retrieval"]["by_type"]})
    panels = ["overall", *types]
    fig, axes = plt.subplots(
        2, len(panels), figsize=(2.6 * len(panels) + 1, 5.6), squeeze=False, sharey=True
    )
    for row, level in enumerate(("session", "turn")):
        for col, panel in enumerate(panels):
            ax = axes[row][col]
            for name, s in systems.items():
                ret = s["retrieval"]
                block = ret["overall"] if panel == "overall" else ret["by_type"].get(panel)
                if not block or not block[level].get("n"):
                    continue
                ys = [block[level].get(f"recall_all@{k}") for k in ks]
                # Baselines dashed underneath, so a memsvc row equal to one stays visible.
                base = s["kind"] == "baseline"
                ax.plot(
                    ks,
                    ys,
                    label=name,
                    marker="s" if base else "o",
                    markersize=4,
                    linestyle="--" if base else "-",
                    linewidth=1.2 if base else 2.2,
                    alpha=0.8 if base else 1.0,
                    zorder=2 if base else 3,
                )
            ax.set_ylim(0, 1.02)
            ax.set_xticks(ks)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(panel.replace("single-session-", "ss-"), fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{level} recall_all@k")
            if row == 1:
                ax.set_xlabel("k")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out_dir / RECALL_PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    import numpy as np

    lat = {n: [r.latency_ms for r in results if r.system == n and not r.error] for n in systems}
    positive = [v for vs in lat.values() for v in vs if v > 0]
    if positive:
        bins = np.logspace(np.log10(min(positive)), np.log10(max(positive)) + 1e-9, 40).tolist()
        for name, vs in lat.items():
            if vs:
                ax.hist([max(v, bins[0]) for v in vs], bins=bins, alpha=0.5, label=name)
        ax.set_xscale("log")
        ax.legend()
    ax.set_xlabel("search latency (ms, log scale)")
    ax.set_ylabel("questions")
    ax.set_title("Search latency per question")
    fig.tight_layout()
    _save(fig, out_dir / LATENCY_PNG)
    plt.close(fig)
