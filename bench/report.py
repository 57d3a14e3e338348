"""Turn pytest-benchmark JSON into a markdown table of ratios and a bar chart.

    python bench/report.py bench.json [--markdown report.md] [--png report.png]

In every benchmark group, each entry's median is divided by the median of
each fastembed entry of the group: a ratio above 1 means fastembed is that
many times faster than the entry.
"""
import argparse
import json
import re
import sys
from collections import defaultdict


def _entries(path):
    with open(path) as handle:
        data = json.load(handle)
    groups = defaultdict(list)
    for benchmark in data["benchmarks"]:
        label = re.sub(r"\[[^\]]*\]$", "", benchmark["name"].removeprefix("test_"))
        params = dict(benchmark.get("params") or {})
        params.pop("case", None)  # the group already names the shape
        if "framework" in params:
            label = params.pop("framework")
        label = "-".join([label] + [str(v) for v in params.values()])
        groups[benchmark["group"] or "ungrouped"].append((label, benchmark["stats"]["median"]))
    return groups, data.get("machine_info", {})


def _is_fastembed(label):
    return "fastembed" in label


def _unit(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def markdown(groups):
    lines = []
    for group in sorted(groups):
        entries = sorted(groups[group], key=lambda entry: entry[1])
        ours = [entry for entry in entries if _is_fastembed(entry[0])]
        lines += [f"### {group}", "",
                  "| benchmark | median | " + " | ".join(f"x vs {name}" for name, _ in ours) + " |",
                  "|---|---:|" + "---:|" * len(ours)]
        for name, median in entries:
            ratios = ["—" if name == own else f"{median / own_median:.2f}" for own, own_median in ours]
            lines.append(f"| {name} | {_unit(median)} | " + " | ".join(ratios) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(groups, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    names = sorted(groups)
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.2 + 0.45 * sum(len(groups[g]) for g in names)),
                             squeeze=False)
    for axis, group in zip(axes[:, 0], names):
        entries = sorted(groups[group], key=lambda entry: entry[1])
        fastest_own = min((m for n, m in entries if _is_fastembed(n)), default=entries[0][1])
        labels = [n for n, _ in entries]
        ratios = [m / fastest_own for _, m in entries]
        colors = ["tab:green" if _is_fastembed(n) else "tab:gray" for n in labels]
        axis.barh(labels, ratios, color=colors)
        axis.invert_yaxis()
        axis.set_title(group, fontsize=9, loc="left")
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(ticker.FormatStrFormatter("%gx"))
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        axis.tick_params(labelsize=8)
        for y, ratio in enumerate(ratios):
            axis.text(ratio, y, f" {ratio:.2f}x", va="center", fontsize=7)
    axes[-1, 0].set_xlabel("median time relative to the fastest fastembed entry (log scale; lower is faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="output of pytest --benchmark-json")
    parser.add_argument("--markdown", help="write the table here (default: stdout)")
    parser.add_argument("--png", help="write a bar chart here")
    args = parser.parse_args(argv)
    groups, _ = _entries(args.json)
    if not groups:
        sys.exit(f"{args.json}: no benchmarks")
    table = markdown(groups)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(table + "\n")
    else:
        print(table)
    if args.png:
        chart(groups, args.png)


if __name__ == "__main__":
    main()
