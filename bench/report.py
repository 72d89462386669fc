"""Render ``bench/results/statements_http.json`` as the Markdown tables of docs/benchmarks.md.

Usage: ``python bench/report.py [results.json]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
FILTERS = ("none", "agent", "verb", "activity", "registration", "related_activities",
           "related_agents", "since")  # fmt: skip


def render(results: dict) -> str:
    lines = []
    reference = results["copy_reference"]
    copy = reference["rows_per_s"]
    drift = (
        f" (the mean of {reference['before_per_s']:,} before the POSTs and "
        f"{reference['after_per_s']:,} after)"
        if "before_per_s" in reference
        else ""
    )
    lines += [
        "Reference, binary COPY into a table indexed like `statements`: "
        f"**{copy:,} rows/s**{drift}.",
        "",
        "| POST batch | clients | statements/s | ÷ COPY | p50 ms | p99 ms | 5xx |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in results["post"]:
        lines.append(
            f"| {entry['batch']} | {entry['clients']} | {entry['statements_per_s']:,} | "
            f"{entry['over_copy']:.2f} | {entry['p50_ms']} | {entry['p99_ms']} | "
            f"{entry['errors_5xx']} |"
        )
    put, writers = results["put"], results["overlapping_writers"]
    lines += [
        "",
        f"PUT single statement: p50 {put['p50_ms']} ms, p99 {put['p99_ms']} ms.",
        f"{writers['writers']} concurrent writers on overlapping activities, "
        f"{writers['requests']} requests: {writers['errors_5xx']} 5xx, "
        f"{writers['deadlocks']} deadlocks (p99 {writers['p99_ms']} ms).",
    ]
    upkeep = results.get("definitions")
    if upkeep:
        lines.append(
            f"Batch-100 POST keeping Activity definitions and Agent names current (`define`): "
            f"{upkeep['with_define_per_s']:,} statements/s, against "
            f"{upkeep['without_define_per_s']:,} without (ratio {upkeep['ratio']})."
        )
    for rows, entry in results.get("sizes", {}).items():
        lines += [
            "",
            f"**{int(rows):,} statements** (filled at {entry['fill_rows_per_s']:,} rows/s):",
            "",
            "| GET | uncached p50 | uncached p99 | cached p50 | cached p99 |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name in FILTERS:
            got = entry["get"][name]
            lines.append(
                f"| {name} | {got['uncached']['p50_ms']} | {got['uncached']['p99_ms']} | "
                f"{got['cached']['p50_ms']} | {got['cached']['p99_ms']} |"
            )
        by_id, more = entry["get"]["by_id"], entry["more"]
        lines += [
            f"| by statementId | {by_id['p50_ms']} | {by_id['p99_ms']} | | |",
            "",
            f"`more` paging, 100 per page: pages 1-20 p50 {more['first_pages_p50_ms']} ms, "
            f"pages {more['pages'] - 19}-{more['pages']} p50 {more['last_pages_p50_ms']} ms "
            f"(ratio {more['last_over_first']}).",
            f"POST batch 100 into this table: {entry['post_batch_100']['statements_per_s']:,} "
            f"statements/s, {entry['ingest_over_empty']:.2f} of the empty-table rate.",
        ]
        if "get_20_months" in entry:
            many, ratios = entry["get_20_months"], entry["20_months_over_8_p50"]
            lines += [
                "",
                "With 20 monthly partitions attached instead of 8 (twelve older, empty):",
                "",
                "| GET | uncached p50 | uncached p99 | p50 ÷ p50 with 8 |",
                "| --- | --- | --- | --- |",
            ]
            for name in (*FILTERS, "by_id"):
                got = many[name].get("uncached", many[name])
                lines.append(f"| {name} | {got['p50_ms']} | {got['p99_ms']} | {ratios[name]} |")
    if "large_over_small_p99" in results:
        ratios = ", ".join(f"{k} {v}" for k, v in results["large_over_small_p99"].items())
        lines += ["", f"Largest ÷ smallest table, uncached p99: {ratios}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench/results/statements_http.json"
    sys.stdout.write(render(orjson.loads(path.read_bytes())))
