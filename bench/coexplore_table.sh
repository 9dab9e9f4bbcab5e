#!/usr/bin/env bash
# Co-exploration against hardware-aware and accuracy-only NAS, same
# episodes, seeds and data: one `nadir coexplore --mode all` run per seed,
# then a table of children trained, best accuracy, throughput, energy
# efficiency and search time per mode (mean over seeds), and the ratios
# the issue asks for.
#
# usage: bench/coexplore_table.sh OUTDIR [SEEDS] [extra nadir coexplore flags...]
# e.g.   bench/coexplore_table.sh /tmp/cx "1 2 3" --data fashion-mnist --episodes 100
set -euo pipefail
out=${1:?usage: coexplore_table.sh OUTDIR [SEEDS] [flags...]}
seeds=${2:-"1 2 3"}
shift $(( $# >= 2 ? 2 : 1 ))
cd "$(dirname "$0")/.."
mkdir -p "$out"
go build -o "$out/nadir" ./cmd/nadir
for s in $seeds; do
  if [ ! -f "$out/seed-$s/summary.json" ]; then
    if [ -f "$out/seed-$s/config.json" ]; then
      "$out/nadir" coexplore --resume "$out/seed-$s" --quiet >/dev/null
    else
      "$out/nadir" coexplore --mode all --seed "$s" --quiet --out "$out/seed-$s" "$@" >/dev/null
    fi
  fi
done
/usr/bin/python3 - "$out" $seeds <<'PY'
import json, sys
out, seeds = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f"{out}/seed-{s}/summary.json")) for s in seeds]
modes = ["coexplore", "hw-aware", "accuracy-only"]
keys = ["children_trained", "best_accuracy", "best_throughput", "best_energy_efficiency", "seconds"]
print(f"spec (img/s) per seed: {[round(r['spec_throughput']) for r in runs]}, met by "
      f"{[r['space_fraction_meeting_spec'] for r in runs]} of the space "
      f"({[r['space_fraction_meeting_spec_fixed_hw'] for r in runs]} on hw-aware's fixed accelerators)")
print("| mode | " + " | ".join(keys) + " | spec met |")
print("|---" * (len(keys) + 2) + "|")
for m in modes:
    rows = [r["modes"][m] for r in runs if m in r["modes"]]
    if not rows:
        continue
    cells = []
    for k in keys:
        vs = [x[k] for x in rows]
        cells.append(" / ".join(f"{v:.4g}" for v in vs) + f" (mean {sum(vs)/len(vs):.4g})")
    print(f"| {m} | " + " | ".join(cells) + f" | {sum(x['spec_met'] for x in rows)}/{len(rows)} |")
for i, (s, r) in enumerate(zip(seeds, runs)):
    co, hw = r["modes"].get("coexplore"), r["modes"].get("hw-aware")
    if not co or not hw:
        continue
    line = (f"seed {s}: children trained hw-aware/coexplore = {hw['children_trained']}/{co['children_trained']} = "
            f"{hw['children_trained']/max(1,co['children_trained']):.2f}x; best accuracy coexplore-hw = "
            f"{100*(co['best_accuracy']-hw['best_accuracy']):+.2f} pt; best throughput "
            f"{100*(co['best_throughput']/hw['best_throughput']-1):+.0f}%; search time "
            f"{hw['seconds']/max(1e-9,co['seconds']):.2f}x")
    mt = co.get("matched_to_hw_aware")
    if mt:
        line += (f"; fastest coexplore design within 0.5 pt of hw-aware's best: {mt['accuracy']:.4f} at "
                 f"{100*(mt['throughput']/hw['best_throughput']-1):+.0f}% throughput, "
                 f"{100*(mt['energy_efficiency']/hw['best_energy_efficiency']-1):+.0f}% GOPS/W")
    else:
        line += "; no coexplore design within 0.5 pt of hw-aware's best accuracy"
    print(line)
PY
