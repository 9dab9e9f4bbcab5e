#!/usr/bin/env bash
# Growth study: does a grown network beat a fixed one of the same cost?
#
# Fashion-MNIST; seed networks VGG11-like and MobileNet-like, each grown to
# three MAC budgets (--budget macs=N). Every entry trains for the same total
# number of epochs, TOTAL (12). Protocol (measured in bench/GROWTH_STUDY.md):
# 1 seed epoch, then R growth rounds of 1 epoch, where R is the fewest rounds
# in which no round more than doubles the MACs (`growthstudy rounds`: 2, 3, 4
# for the three budgets), each growing to its share of the budget
# (--grow-ratio auto). The epochs before the last growth step (the seed's
# and R - 1 rounds') each pass over 1/R of the training set, a different
# part each (--growth-fraction; GROWTH_FRACTION=auto), so that growth costs
# one pass in all; once the budget is reached the grown architecture
# restarts from a fresh initialisation (--reinit) and trains the TOTAL - 1
# epochs left on all of it. Growth chooses the widths and pays one epoch of
# the 12 for it. GROWTH_FRACTION=1 is the protocol before growth fractions
# (whole epochs: TOTAL - 1 - R epochs after the restart); the earlier
# protocol trained through growth (2 + 4x2 + 2):
# GROWTH_FRACTION=1 SEED_EPOCHS=2 ROUNDS=4 PER_ROUND=2 FINAL=2 GROW_FLAGS=" ".
# Methods: s2d, fast, signed, random-split, new-neuron, firefly. Baselines at each budget:
#   uniform-scratch  the seed template at the uniform width of at most N MACs, trained from scratch
#   scratch          s2d's grown architecture retrained from scratch
#   slimming         network slimming: the uniform network at twice that width trained
#                    with L1 on BatchNorm scales, pruned globally by |gamma| to N MACs, fine-tuned
# Runs: the growth methods and uniform-scratch of each (net, budget) are one
# `nadir sweep` (methods × seeds) in OUT/NET/BUDGET/sweep, its run
# directories trials/ID/ (OUT/NET/BUDGET/sweep.tsv says which is which);
# scratch and slimming run after it as direct commands in
# OUT/NET/BUDGET/METHOD-SEED. OUT/manifest.tsv lists every run (net, budget,
# method, seed, run directory). Rerun with the same OUTDIR to resume: the
# sweeps rerun no finished trial (the direct baselines run again).
# Output: OUT/study.md (Markdown, mean ± sd over seeds, then each method's
# difference from random-split and uniform-scratch paired by seed), OUT/study-<net>.png
# (accuracy vs MACs) and, as the last line of stdout, JSON
# {"rows": [{"net","method","budget_macs","mean_accuracy","sd_accuracy","mean_macs","n"}]}.
#
# usage: bench/growth_study.sh [--quick] [OUTDIR]
#   --quick: first 10,000 training images, VGG11-like seed, smallest budget,
#            seeds 1 2; s2d, fast, random-split and uniform-scratch.
# Environment overrides: SEEDS, MAX_TRAIN, NETS ("vgg mobilenet"), METHODS,
# BASELINES, BUDGETS_VGG, BUDGETS_MOBILENET, GROW_FLAGS (nadir grow flags for
# the growth methods; default "--grow-ratio auto --reinit --exact-growth"), SLIM_LAMBDA,
# THREADS (kernel threads per run; unset: all cores, or 1 for sweep trials
# when WORKERS > 1), WORKERS (sweep trials at once in this process, default 1;
# 0 with a NATS URL: remote workers only), NATS (empty: the sweeps run here;
# "embedded": on a JetStream server inside each sweep, WORKERS workers; a
# URL: on that server's workers, `nadir worker --nats URL`), and the
# schedule TOTAL, SEED_EPOCHS, ROUNDS (a number, or unset: per budget as
# above), PER_ROUND, FINAL (unset: what is left of TOTAL), GROWTH_FRACTION
# (the seed's and the rounds' epochs before the last growth step pass over
# this fraction of the training set, `nadir grow --growth-fraction`; "auto",
# the default: the fraction that makes them one pass in all; 1: the whole
# set each).
set -euo pipefail
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
out=${1:-runs/growth-study}
cd "$(dirname "$0")/.."
mkdir -p "$out"
bin="$out/nadir"
go build -o "$bin" ./cmd/nadir
go build -o "$out/growthstudy" ./bench/growthstudy

declare -A seed_net=(
  [vgg]='cnn:c{w},p,c{w},p,c{w},c{w},p,c{w},c{w},p,c{w},c{w},g'
  [mobilenet]='cnn:c{w},d{w}s2,d{w},d{w}s2,d{w},d{w}s2,d{w},g'
)
declare -A budgets=([vgg]="${BUDGETS_VGG:-500000 1000000 2000000}" [mobilenet]="${BUDGETS_MOBILENET:-300000 600000 1200000}")
if ((quick)); then
  : "${SEEDS:=1 2}" "${MAX_TRAIN:=10000}" "${NETS:=vgg}" "${METHODS:=s2d fast random-split}" "${BASELINES:=uniform-scratch}"
  budgets[vgg]=${budgets[vgg]%% *}
  budgets[mobilenet]=${budgets[mobilenet]%% *}
else
  : "${SEEDS:=1 2 3}" "${MAX_TRAIN:=0}" "${NETS:=vgg mobilenet}"
  : "${METHODS:=s2d fast signed random-split new-neuron firefly}" "${BASELINES:=uniform-scratch scratch slimming}"
fi
# --exact-growth: the study's tables were measured with exact splitting
# statistics and solves (the growth-step approximations came later; they
# choose the same neurons but the runs then diverge as any change of the
# split directions makes them).
GROW_FLAGS=${GROW_FLAGS---grow-ratio auto --reinit --exact-growth}
seed_epochs=${SEED_EPOCHS:-1} per_round=${PER_ROUND:-1}
# schedule BUDGET: sets rounds, final and total for one budget.
schedule() {
  rounds=${ROUNDS:-$("$out/growthstudy" rounds "$seed_model" "$1")}
  # Epochs before the last growth step; with GROWTH_FRACTION they count
  # that fraction each (rounded to whole passes).
  local early=$((seed_epochs + (rounds - 1) * per_round)) early_passes
  case ${GROWTH_FRACTION:-auto} in
    auto) if ((early > 0)); then frac=$(awk -v n="$early" 'BEGIN { printf "%.9f", 1 / n }'); early_passes=1; else frac=1 early_passes=0; fi ;;
    *) frac=$GROWTH_FRACTION; early_passes=$(awk -v n="$early" -v f="$frac" 'BEGIN { printf "%d", n * f + 0.5 }') ;;
  esac
  frac_flag=(--growth-fraction "$frac")
  if [[ -n ${FINAL:-} ]]; then final=$FINAL; else final=$((${TOTAL:-12} - early_passes - per_round)); fi
  total=$((early_passes + per_round + final))
  if ((final < 0)); then echo "schedule: $rounds rounds do not fit in ${TOTAL:-12} epochs" >&2; exit 2; fi
}
common=(--data fashion-mnist --max-train "$MAX_TRAIN" --lr 0.1 --wd 1e-4 --quiet ${THREADS:+--threads "$THREADS"})
# Sweep trials take --threads explicitly (sweep's own default is 1): unset
# THREADS means all cores, as for the direct runs, unless several trials
# run at once here.
WORKERS=${WORKERS:-1}
sweep_common=(--max-train "$MAX_TRAIN" --lr 0.1 --wd 1e-4 --threads "${THREADS:-$((WORKERS > 1 ? 1 : 0))}")
for m in $BASELINES; do
  case $m in uniform-scratch | scratch | slimming) ;; *) echo "unknown baseline $m" >&2; exit 2 ;; esac
done
if [[ " $BASELINES " == *" scratch "* && " $METHODS " != *" s2d "* ]]; then
  echo "the scratch baseline retrains s2d's runs: METHODS must include s2d" >&2; exit 2
fi
manifest="$out/manifest.tsv"
: >"$manifest"
log() { echo "[$(date +%T)] $*" >&2; }
join() { local IFS=,; echo "$*"; }
# swept_line METHOD SEED: the current sweep's manifest line for that run.
swept_line() { awk -F '\t' -v m="$1" -v s="$2" '$3 == m && $4 == s' "$sweep_dir.tsv"; }

for net in $NETS; do
  tmpl=${seed_net[$net]}
  seed_model=${tmpl//\{w\}/8}
  for b in ${budgets[$net]}; do
    schedule "$b"
    uniform=$("$out/growthstudy" width "$tmpl" "$b" 2>/dev/null)
    # One sweep per (net, budget): the growth methods and uniform-scratch
    # over the seeds. Its trials/ID/ are the run directories; sweep.tsv is
    # their manifest lines.
    sweep_dir="$out/$net/$b/sweep"
    mkdir -p "$out/$net/$b"
    swept=($METHODS)
    if [[ " $BASELINES " == *" uniform-scratch "* ]]; then swept+=(uniform-scratch); fi
    : >"$sweep_dir.tsv"
    if ((${#swept[@]})); then
      log "$net $b sweep: ${swept[*]} × seeds $SEEDS"
      # shellcheck disable=SC2086 # GROW_FLAGS is a list of flags
      "$bin" sweep --method "$(join "${swept[@]}")" --seed "$(join $SEEDS)" --budget "macs=$b" --data fashion-mnist \
        --scratch-model "$uniform" --out "$sweep_dir" --workers "$WORKERS" ${NATS:+--nats "$NATS"} \
        --model "$seed_model" --epochs "$seed_epochs" --rounds "$rounds" --epochs-per-round "$per_round" --final-epochs "$final" \
        "${sweep_common[@]}" "${frac_flag[@]}" $GROW_FLAGS >/dev/null
      "$out/growthstudy" manifest "$sweep_dir" "$net" "$b" >"$sweep_dir.tsv"
    fi
    # The manifest lists each seed's methods, then its baselines, as the
    # table's row and column order follows it.
    for s in $SEEDS; do
      for m in $METHODS; do swept_line "$m" "$s" >>"$manifest"; done
      for m in $BASELINES; do
        d="$out/$net/$b/$m-$s"
        case $m in
          uniform-scratch) swept_line "$m" "$s" >>"$manifest"; continue ;;
          scratch)
            from=$(swept_line s2d "$s" | cut -f5)
            rm -rf "$d"
            log "$net $b $m seed $s"
            "$bin" grow --method scratch --from "$from" --seed "$s" "${common[@]}" --out "$d" >/dev/null ;;
          slimming)
            # Twice the uniform width at the budget, as wide as the paper's
            # starting networks are relative to their pruned result.
            w=$(sed -E 's/^cnn:c([0-9]+).*/\1/' <<<"$uniform")
            wide=${tmpl//\{w\}/$((2 * w))}
            rm -rf "$d"
            log "$net $b $m seed $s"
            "$bin" grow --method prune --network-slimming --slim-lambda "${SLIM_LAMBDA:-1e-4}" --model "$wide" \
              --budget "macs=$b" --seed "$s" --epochs "$total" "${common[@]}" --out "$d" >/dev/null ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\n' "$net" "$b" "$m" "$s" "$d" >>"$manifest"
      done
    done
  done
done
"$out/growthstudy" table "$manifest" "$out/study"
