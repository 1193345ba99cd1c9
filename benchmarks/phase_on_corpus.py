#!/usr/bin/env python3
"""Run a phase (`offload` or `native`) with --write over real code bases and check it is safe.

For each code base downloaded by ``benchmarks/corpus.py`` (default: the ``apps`` set), the script copies
it to ``.cache/work/<phase>/<name>/`` (with a pyproject.toml of its own, so the scan's default excludes and
caches apply to it alone), then:

1. runs ``asgi-migrate <phase> . --write`` and reads its summary (files rewritten, findings fixed, left
   for review with their reasons);
2. compiles every Python file of the copy that the phase changed (``compile()``), counting failures;
3. runs the phase again as a dry run: it must show no diff (idempotence);
4. checks that every file it did not rewrite is byte-identical to the original.

Usage (from the repository root)::

    python benchmarks/phase_on_corpus.py --phase offload
    python benchmarks/phase_on_corpus.py --phase offload --only open-webui-0.6.43 --show-reviews 20

Stdlib only; the tool is run from the repository's virtualenv.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / ".cache" / "corpus"
WORK = REPO / ".cache" / "work"
TOOL = REPO / ".venv" / "bin" / "asgi-migrate"
APPS = ("open-webui-0.6.43", "khoj-1.42.10", "chainlit-2.12.0", "langgraph-api-0.16.7")
_SUMMARY = re.compile(r"(\w+): (?:rewrote|would rewrite) (\d+) file\(s\), (\d+) (?:finding|call)\(s\) "
                      r"(?:fixed|made native)(?:, \d+ function\(s\) made async)?, (\d+) left for review")
_STAYS_SYNC = re.compile(r"^\s+stays sync \S+ \S+: (.*)$")
_REVIEW = re.compile(r"^\s+review \S+ (AM\d+) \S+: (.*)$")


def copy(name: str, phase: str) -> Path:
    dest = WORK / phase / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(CORPUS / name, dest, ignore=shutil.ignore_patterns(".corpus.json", "__pycache__"))
    (dest / "pyproject.toml").write_text(f"[project]\nname = \"{name}\"\n")
    return dest


def run(phase: str, folder: Path, write: bool) -> subprocess.CompletedProcess[str]:
    args = [str(TOOL), phase, ".", "--jobs", "2"] + (["--write"] if write else [])
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=1800)


def reason_kind(reason: str) -> str:
    """Group review reasons by their first clause (the detail after ':' varies per site)."""
    reason = re.sub(r"`[^`]*`", "`…`", reason)
    return reason.split(":")[0][:90] if not reason.startswith("hazard") else reason[:60]


def check(name: str, phase: str, show_reviews: int) -> dict:
    folder = copy(name, phase)
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*.py")}
    first = run(phase, folder, write=True)
    m = _SUMMARY.search(first.stderr)
    files, fixed, review = (int(m.group(2)), int(m.group(3)), int(m.group(4))) if m else (0, 0, 0)
    reasons = Counter(reason_kind(r.group(2)) for line in first.stderr.splitlines() if (r := _REVIEW.match(line)))
    stays_sync = Counter(reason_kind(r.group(1).split(":")[-2] if r.group(1).count(":") > 1 else r.group(1))
                         for line in first.stderr.splitlines() if (r := _STAYS_SYNC.match(line)))
    changed = [p for p, data in before.items() if (folder / p).read_bytes() != data]
    compile_errors = []
    for rel in changed:
        try:
            compile((folder / rel).read_bytes(), str(rel), "exec", dont_inherit=True)
        except SyntaxError as exc:
            compile_errors.append(f"{rel}: {exc}")
    second = run(phase, folder, write=False)
    idempotent = second.stdout.strip() == ""
    result = {"name": name, "files_rewritten": files, "changed_on_disk": len(changed), "fixed": fixed,
              "review": review, "compile_errors": compile_errors, "idempotent": idempotent,
              "exit": first.returncode, "reasons": reasons, "stderr_tail": first.stderr.strip().splitlines()[-3:]}
    print(f"== {name}: rewrote {files} file(s) ({len(changed)} changed on disk), {fixed} fixed, {review} for review, "
          f"{len(compile_errors)} compile error(s), second run {'changes nothing' if idempotent else 'CHANGES FILES'}")
    for kind, count in reasons.most_common(show_reviews):
        print(f"   {count:5d}  {kind}")
    if stays_sync:
        print(f"   functions kept sync (propagation stopped): {sum(stays_sync.values())}")
        for kind, count in stays_sync.most_common(show_reviews):
            print(f"   {count:5d}  {kind}")
    for err in compile_errors:
        print(f"   COMPILE ERROR {err}")
    if not idempotent:
        print("   second run diff (head):\n" + "\n".join(second.stdout.splitlines()[:40]))
    if not m:
        print("   no summary line; stderr tail:\n   " + "\n   ".join(first.stderr.splitlines()[-10:]))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=("offload", "native"), default="offload")
    parser.add_argument("--only", nargs="*", default=None, help="code base folder names under .cache/corpus")
    parser.add_argument("--show-reviews", type=int, default=8, help="review reasons to list per code base")
    args = parser.parse_args(argv)
    names = args.only or [n for n in APPS if (CORPUS / n).is_dir()]
    if not names:
        print("no corpus: run `python benchmarks/corpus.py --set apps` first", file=sys.stderr)
        return 2
    results = [check(n, args.phase, args.show_reviews) for n in names]
    bad = [r for r in results if r["compile_errors"] or not r["idempotent"]]
    total = Counter()
    for r in results:
        total.update({k: r[k] for k in ("files_rewritten", "fixed", "review")})
    print(f"\nTOTAL: {total['files_rewritten']} files rewritten, {total['fixed']} findings fixed, "
          f"{total['review']} left for review; {len(bad)} code base(s) with compile errors "
          "or a non-idempotent second run")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
