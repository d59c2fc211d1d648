"""Settings fuzzer: mutated real Deforum settings through `python -m wan plan ... --json`.

    python fuzz/settings.py --cases 10000 --seed 0 --out DIR [--jobs 2] [--timeout 10]

Prints the figures (cases, ok, clear errors, uncaught by type and place, hangs, crashes,
non-standard JSON) and writes one reproducer per distinct failure to DIR: the settings file
(`<class>-<n>.json`, shrunk to the keys the failure needs) and what it did (`<class>-<n>.txt`),
plus DIR/summary.json. Exit 1 when anything but OK and clear errors was seen.
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz.settings_cases import Case, load_bases, make_case
from fuzz.settings_run import (
    CLEAR,
    CRASH,
    HANG,
    NON_STANDARD_JSON,
    OK,
    UNCAUGHT,
    Pool,
    Result,
)
from fuzz.settings_shrink import shrink

FAILURES = (UNCAUGHT, HANG, CRASH, NON_STANDARD_JSON)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the workers too
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bases = load_bases()
    cases = (make_case(args.seed, i, bases) for i in range(args.cases))
    counts: collections.Counter[str] = collections.Counter()
    groups: dict[tuple[str, str], list[tuple[Case, Result]]] = {}
    slowest: list[tuple[float, int]] = []
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="wan-fuzz-") as folder,
        Pool(folder, args.timeout, args.jobs, args.memory_mb) as pool,
    ):
        for done, (case, result) in enumerate(pool.run(cases), 1):
            counts[result.status] += 1
            slowest = sorted([*slowest, (result.seconds, case.index)], reverse=True)[:5]
            if result.status in FAILURES:
                groups.setdefault((result.status, result.key), []).append((case, result))
            if args.progress and done % 1000 == 0:
                print(f"{done} cases, {_figures(counts)}", file=sys.stderr, flush=True)
        elapsed = time.monotonic() - started
        findings = _write_findings(groups, out, pool, args.shrink)
    summary = {
        "cases": args.cases,
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "counts": {status: counts[status] for status in (OK, CLEAR, *FAILURES)},
        "slowest": [{"index": i, "seconds": round(s, 2)} for s, i in slowest],
        "findings": findings,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _print(summary, out)
    return 1 if any(counts[status] for status in FAILURES) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="fuzz-settings-out", help="folder for the reproducers")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a case may take")
    parser.add_argument("--memory-mb", type=int, default=4096, help="address space per worker")
    parser.add_argument("--no-shrink", dest="shrink", action="store_false")
    parser.add_argument("--progress", action="store_true", help="figures every 1000 cases")
    return parser


def _write_findings(groups, out: Path, pool: Pool, shrink_them: bool) -> list[dict]:
    """One reproducer per distinct failure: the first case seen, shrunk unless it hangs."""
    findings = []
    numbers: collections.Counter[str] = collections.Counter()
    for (status, key), seen in sorted(groups.items(), key=lambda item: -len(item[1])):
        case, result = seen[0]
        text = case.text
        if shrink_them and status in (UNCAUGHT, NON_STANDARD_JSON, CRASH):
            text = shrink(text, lambda t, r=result: _same(pool.one(t, 5.0), r))
        numbers[status] += 1
        name = f"{status}-{numbers[status]:02d}"
        (out / f"{name}.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        finding = {
            "file": f"{name}.json",
            "status": status,
            "key": key,
            "count": len(seen),
            "cases": [seen_case.index for seen_case, _ in seen],
            "case": {"seed": case.seed, "index": case.index, "base": case.base},
            "mutations": list(case.mutations),
            "detail": result.detail,
        }
        (out / f"{name}.txt").write_text(json.dumps(finding, indent=2) + "\n", encoding="utf-8")
        findings.append(finding)
    return findings


def _same(result: Result, wanted: Result) -> bool:
    return result.status == wanted.status and result.key == wanted.key


def _figures(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{status} {counts[status]}" for status in (OK, CLEAR, *FAILURES))


def _print(summary: dict, out: Path) -> None:
    counts = summary["counts"]
    print(
        f"{summary['cases']} cases (seed {summary['seed']}) in {summary['seconds']} s: "
        f"{counts[OK]} ok, {counts[CLEAR]} clear errors, {counts[UNCAUGHT]} uncaught, "
        f"{counts[HANG]} hangs, {counts[CRASH]} crashes, "
        f"{counts[NON_STANDARD_JSON]} non-standard JSON"
    )
    slowest = ", ".join(f"#{s['index']} {s['seconds']} s" for s in summary["slowest"])
    print(f"slowest: {slowest}")
    for finding in summary["findings"]:
        print(f"\n{finding['status']} x{finding['count']}: {finding['key']}")
        print(f"  reproducer: {out / finding['file']} (case {finding['case']['index']})")
        for line in finding["detail"].splitlines()[-3:]:
            print(f"  {line}")


if __name__ == "__main__":
    sys.exit(main())
