#!/usr/bin/env bash
# MLP split study: does splitting along v_min (s2d) beat splitting along a
# random direction (random-split) on MNIST from mlp:8, at equal final params?
#
# Every configuration runs
#   nadir grow --model mlp:8 --rounds 4 --split-batches 20 --method M --seed S [flags]
# (1 seed epoch + 4 rounds x 1 epoch, 8 -> 20 hidden units = 15,910 params)
# for each method and seed, and records per run
#   acc      final test accuracy (%)
#   drop1    summed measured loss change of round 1's splits (the network
#            before them is the same for every method of a seed)
#   dropall  summed measured loss change of all splits of the run
#   neg      splits that lowered the statistics loss / all splits
# The measured change is the loss on the round's statistics batches right
# after each split minus right before it, before any training (the run's
# log.jsonl "split" events).
#
# Output: OUT/runs.tsv (one line per run) and OUT/table.md: per configuration
# and method the per-seed accuracies, mean ± sd, and the paired difference
# s2d − random-split per seed with its mean ± sd.
#
# usage: bench/mlp_split_study.sh [OUTDIR]
# Environment overrides: SEEDS (default "1 2 3"), METHODS (default
# "s2d random-split"), CONFIGS (lines "name|flags"; default below), and
# BASE (flags shared by every run).
set -euo pipefail
out=${1:-runs/mlp-split-study}
cd "$(dirname "$0")/.."
mkdir -p "$out"
bin="$out/nadir"
go build -o "$bin" ./cmd/nadir
: "${SEEDS:=1 2 3}" "${METHODS:=s2d random-split}"
: "${BASE:=--data mnist --model mlp:8 --rounds 4 --split-batches 20 --quiet --threads 1}"
: "${CONFIGS:=default (eps-rel 0.1)|
eps 0.01 absolute|--eps 0.01
eps-rel 0.02|--eps-rel 0.02
eps-rel 0.05|--eps-rel 0.05
eps-rel 0.2|--eps-rel 0.2
eps-rel 0.3|--eps-rel 0.3}"
runs="$out/runs.tsv"
printf 'config\tmethod\tseed\tacc\tdrop1\tdropall\tneg\n' >"$runs"
while IFS='|' read -r name flags; do
  [[ -z $name ]] && continue
  for m in $METHODS; do
    for s in $SEEDS; do
      d="$out/$(tr -c 'A-Za-z0-9.\n-' '_' <<<"$name")/$m-$s"
      rm -rf "$d"
      # shellcheck disable=SC2086
      "$bin" grow $BASE --method "$m" --seed "$s" $flags --out "$d" >/dev/null
      acc=$(jq '.test_accuracy * 100' "$d/summary.json")
      read -r drop1 dropall neg <<<"$(jq -rs '[.[] | select(.event == "split")] as $s
        | [($s | map(select(.round == 1) | .measured // 0) | add // 0),
           ($s | map(.measured // 0) | add // 0),
           "\($s | map(select((.measured // 0) < 0)) | length)/\($s | length)"] | @tsv' "$d/log.jsonl")"
      printf '%s\t%s\t%s\t%.2f\t%.6f\t%.6f\t%s\n' "$name" "$m" "$s" "$acc" "$drop1" "$dropall" "$neg" >>"$runs"
    done
  done
done <<<"$CONFIGS"

# Table: mean ± sd (sample sd) over seeds, and the paired s2d − random-split difference.
awk -F'\t' -v methods="$METHODS" '
NR == 1 { next }
!($1 in seen) { seen[$1] = 1; order[++nc] = $1 }
{ acc[$1, $2, $3] = $4; d1[$1, $2] += $5; da[$1, $2] += $6; n[$1, $2]++; seeds[$3] = 1 }
function msd(xs, k,   i, s, q, m) { s = 0; for (i = 1; i <= k; i++) s += xs[i]; m = s / k; q = 0
  for (i = 1; i <= k; i++) q += (xs[i] - m)^2; return sprintf("%.2f ± %.2f", m, k > 1 ? sqrt(q / (k - 1)) : 0) }
END {
  nm = split(methods, ms, " ")
  ns = 0; for (s in seeds) ss[++ns] = s + 0
  for (a = 1; a <= ns; a++) for (b = a + 1; b <= ns; b++) if (ss[b] < ss[a]) { t = ss[a]; ss[a] = ss[b]; ss[b] = t }
  printf "| config | method | accuracy per seed | mean ± sd | mean drop, round 1 | mean drop, all splits |\n|---|---|---|---|---|---|\n"
  for (c = 1; c <= nc; c++) for (j = 1; j <= nm; j++) {
    m = ms[j]; if (!((order[c], m) in n)) continue
    k = 0; line = ""
    for (s in seeds) if ((order[c], m, s) in acc) { xs[++k] = acc[order[c], m, s] }
    for (a = 1; a <= ns; a++) if ((order[c], m, ss[a]) in acc) line = line sprintf("%.2f ", acc[order[c], m, ss[a]])
    printf "| %s | %s | %s| %s | %+.5f | %+.5f |\n", order[c], m, line, msd(xs, k), d1[order[c], m] / n[order[c], m], da[order[c], m] / n[order[c], m]
  }
  if (nm >= 2) {
    printf "\n| config | %s − %s per seed | mean ± sd | seeds ahead |\n|---|---|---|---|\n", ms[1], ms[2]
    for (c = 1; c <= nc; c++) {
      k = 0; line = ""; up = 0
      for (a = 1; a <= ns; a++) { s = ss[a]
        if (((order[c], ms[1], s) in acc) && ((order[c], ms[2], s) in acc)) {
          xs[++k] = acc[order[c], ms[1], s] - acc[order[c], ms[2], s]; line = line sprintf("%+.2f ", xs[k]); if (xs[k] > 0) up++ } }
      if (k) printf "| %s | %s| %s | %d/%d |\n", order[c], line, msd(xs, k), up, k
    }
  }
}' "$runs" | tee "$out/table.md"
