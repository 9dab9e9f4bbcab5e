#!/bin/bash
# compare.sh: nadir's and PyTorch's timings of the same workloads, run
# back to back on this machine, and their ratios.
#
# Usage: bench/compare.sh [REPS]   (from anywhere; REPS defaults to 5)
#
# Installs Debian's python3-torch when /usr/bin/python3 cannot import torch.
# The PyTorch side is $TORCH_REF when set, else the shared peer script
# ../shared/bench/torch_ref.py beside the repository (beside the main
# checkout when this is a git worktree), else bench/torch_ref.py (the same
# workloads). Both sides use 2 threads; on a shared machine run it a few
# times and quote the spread.
set -euo pipefail

reps=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${TORCH_REF:-}
if [ -z "$ref" ]; then
	ref=$root/bench/torch_ref.py
	# A linked worktree's ../shared is the main checkout's neighbour.
	main=$(cd "$root" && git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	for dir in "$root/.." "${main:+$main/../..}"; do
		if [ -n "$dir" ] && [ -f "$dir/shared/bench/torch_ref.py" ]; then
			ref=$(cd "$dir/shared/bench" && pwd)/torch_ref.py
			break
		fi
	done
fi

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "compare.sh: installing python3-torch" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y python3-torch >&2
fi
# Debian's torch multiplies matrices through the libblas alternative; the
# reference BLAS it may point to is ~30x slower than OpenBLAS.
if ! [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] && command -v apt-get >/dev/null; then
	echo "compare.sh: installing libopenblas0-pthread (torch's BLAS)" >&2
	${sudo:-$([ "$(id -u)" -eq 0 ] || echo sudo)} apt-get install -y --no-install-recommends libopenblas0-pthread >&2 || true
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Other work on the machine skews both sides; the load shows how much.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
(cd "$root" && go run ./cmd/nadir bench --json --reps "$reps") | tee "$tmp/nadir"
# OPENBLAS_CORETYPE/L2_SIZE, where a machine sets them for old OpenBLAS
# builds, slow a current one: unset for this process alone.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$ref" "$reps" --json | tee "$tmp/torch"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

/usr/bin/python3 - "$tmp/nadir" "$tmp/torch" "$ref" <<'PY'
import json, sys

def last_json(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    return json.loads(lines[-1])

nadir, torch = last_json(sys.argv[1]), last_json(sys.argv[2])
print(f"PyTorch side: {sys.argv[3]}")
print("ratio: GFLOP/s rows nadir/torch, ms rows torch/nadir; above 1 means nadir is faster")
print(f"{'figure':<18}{'nadir':>12}{'torch':>12}{'ratio':>9}")
for key in ("gemm512_gflops", "gemm1024_gflops", "mlp_step_ms", "lenet_step_ms", "vgg16_step_ms",
            "vgg48_step_ms", "depthwise_ms"):
    if key not in nadir or key not in torch:
        print(f"{key:<18}{'(missing on one side)':>33}")
        continue
    n, t = nadir[key], torch[key]
    r = n / t if key.endswith("_gflops") else t / n
    print(f"{key:<18}{n:>12.2f}{t:>12.2f}{r:>9.2f}")
PY
