#!/usr/bin/env bash
# Kill-anywhere torture test: a small CNN growth run is SIGKILLed at N
# moments, each run is resumed to the end, and every summary must equal the
# uninterrupted run's (wall-clock fields aside).
#
# The kills cycle through three kinds of moment:
#   random  a uniformly random time within the reference run's duration
#   grow    inside a growth step: the log's last event is the round record,
#           an eigenvalue or a split (statistics, eigen-solve, surgery)
#   write   inside a checkpoint write (not the first): a temporary
#           checkpoint file exists
#
# usage: bench/torture.sh [N]        (default 20; TORTURE_DIR keeps the runs)
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
work=${TORTURE_DIR:-$(mktemp -d)}
mkdir -p "$work"
bin=$work/nadir
go build -o "$bin" ./cmd/nadir || exit 1
args=(grow --model cnn:c4,p,c8,p --max-train 2000 --rounds 3 --batch 32 --ckpt-steps 5
	--split-batches 4 --seed 7 --quiet)

# summary.json without wall-clock fields, canonically formatted.
strip() {
	/usr/bin/python3 - "$1" <<'EOF'
import json, sys
drop = {"seconds", "grow_seconds", "train_seconds", "epoch_seconds", "time"}
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
print(json.dumps(clean(json.load(open(sys.argv[1]))), sort_keys=True))
EOF
}

now() { date +%s%3N; } # milliseconds

rm -rf "$work/ref"
t0=$(now)
"$bin" "${args[@]}" --out "$work/ref" >/dev/null || exit 1
ref_ms=$(($(now) - t0))
want=$(strip "$work/ref/summary.json")
echo "reference run: ${ref_ms} ms; $N kills follow"

# last_event DIR: the "event" of the last complete line of log.jsonl.
last_event() {
	tail -n 1 "$1/log.jsonl" 2>/dev/null | grep -o '"event":"[a-z]*"' | cut -d'"' -f4
}

pass=0
i=0
attempt=0
while ((i < N && attempt < 2 * N)); do
	attempt=$((attempt + 1))
	i=$((i + 1))
	dir=$work/run-$i
	rm -rf "$dir"
	case $((i % 3)) in
	1) kind=random ;;
	2) kind=grow ;;
	0) kind=write ;;
	esac
	"$bin" "${args[@]}" --out "$dir" >/dev/null 2>&1 &
	pid=$!
	start=$(now)
	at=$((ref_ms * (5 + RANDOM % 76) / 100)) # 5% to 80% of the reference run (load varies)
	seen=""
	while kill -0 "$pid" 2>/dev/null; do
		case $kind in
		random)
			if (($(now) - start >= at)); then seen="at ${at} ms"; fi ;;
		grow)
			ev=$(last_event "$dir")
			if [[ $ev == round || $ev == eigen || $ev == split ]]; then seen="after $ev event"; fi ;;
		write)
			# Not the very first write: that kill would only restart the run.
			if [[ -e $dir/ckpt/last.ckpt ]] && compgen -G "$dir/ckpt/.*.tmp*" >/dev/null; then
				seen="temporary checkpoint present"
			fi ;;
		esac
		if [[ -n $seen ]]; then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.002
	done
	wait "$pid" 2>/dev/null
	status=$?
	if [[ $kind == write ]] && compgen -G "$dir/ckpt/.*.tmp*" >/dev/null; then
		seen="$seen, left behind: the kill landed inside the write"
	fi
	if [[ -z $seen || $status -ne 137 ]]; then # 137: killed by SIGKILL
		echo "attempt ($kind): the run finished before the moment came (exit $status); not counted, tried again"
		i=$((i - 1))
		continue
	fi
	how=resumed
	out=$("$bin" resume --quiet "$dir" 2>&1 >/dev/null)
	if [[ $? -ne 0 ]]; then
		if [[ $out == *"no checkpoint yet"* || $out == *"no config.json"* ]]; then
			# Killed before the first checkpoint: a user starts again.
			rm -rf "$dir"
			how=restarted
			"$bin" "${args[@]}" --out "$dir" >/dev/null 2>&1 || { echo "kill $i ($kind): restart failed"; continue; }
		else
			echo "kill $i ($kind, $seen): resume FAILED: $out"
			continue
		fi
	fi
	if [[ $(strip "$dir/summary.json") == "$want" ]]; then
		pass=$((pass + 1))
		echo "kill $i ($kind, $seen, exit $status): $how, summary identical"
	else
		echo "kill $i ($kind, $seen): $how, summary DIFFERS"
		diff <(echo "$want" | /usr/bin/python3 -m json.tool) <(strip "$dir/summary.json" | /usr/bin/python3 -m json.tool) | head -20
	fi
done
echo "torture: $pass of $i killed runs resumed to the uninterrupted run's summary ($attempt attempts)"
[[ $pass -eq $N ]]
