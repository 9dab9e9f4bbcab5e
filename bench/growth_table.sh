#!/usr/bin/env bash
# Growth methods against their baselines at equal final size, same seeds:
# s2d, fast, signed, random-split and new-neuron grown from the same seed
# network, then `scratch` (the s2d run's final architecture trained from
# scratch for the same total epochs) and `prune` (twice as wide, trained,
# magnitude-pruned to the same widths, fine-tuned).
#
# usage: bench/growth_table.sh OUTDIR [SEEDS] [extra nadir grow flags...]
# e.g.   bench/growth_table.sh /tmp/gt "1 2 3" --model mlp:8 --rounds 4
set -euo pipefail
out=${1:?usage: growth_table.sh OUTDIR [SEEDS] [flags...]}
seeds=${2:-"1 2 3"}
shift $(( $# >= 2 ? 2 : 1 ))
cd "$(dirname "$0")/.."
go build -o "$out/nadir" ./cmd/nadir
dirs=()
for s in $seeds; do
  for m in s2d fast signed random-split new-neuron; do
    "$out/nadir" grow --method "$m" --seed "$s" --quiet --out "$out/$m-$s" "$@" >/dev/null
    dirs+=("$out/$m-$s")
  done
  for m in scratch prune; do
    "$out/nadir" grow --method "$m" --from "$out/s2d-$s" --seed "$s" --quiet --out "$out/$m-$s" "$@" >/dev/null
    dirs+=("$out/$m-$s")
  done
done
"$out/nadir" report --table "$(IFS=,; echo "${dirs[*]}")"
