#!/usr/bin/python3
"""CPU time of the growth benchmark's phases (issue 13).

Usage: bench/growth_cpu.py NADIR_BINARY METHOD SEED OUT_DIR [EXTRA_GROW_FLAGS...]

Runs the growth benchmark once with --threads 1 under /usr/bin/time, samples
the process's CPU time (the sum of its threads' /proc schedstat run times)
every 5 ms, matches it to the run log's phase end times, and prints one JSON
line: per growth step (CPU seconds, CPU seconds of the training part of the
epoch before it, their ratio), evaluation / training CPU per epoch (min, max),
whole-run CPU, peak RSS, test accuracy and parameters."""
import datetime, glob, json, shutil, subprocess, sys, time
binary, method, seed, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
shutil.rmtree(out, ignore_errors=True)
cmd = ['/usr/bin/time', '-f', '%M %U %S', '-o', out + '.time', binary, 'grow', '--threads', '1', '--data', 'fashion-mnist',
       '--max-train', '10000', '--model', 'cnn:c16,p,c16,p,c16,c16,p,c16,c16,p,c16,c16,g', '--batch', '128', '--lr', '0.1',
       '--schedule', 'const', '--wd', '1e-4', '--optimizer', 'sgd', '--epochs', '2', '--epochs-per-round', '2', '--rounds', '2',
       '--grow-ratio', '0.35', '--split-batches', '7', '--method', method, '--seed', seed, '--quiet', '--out', out] + sys.argv[5:]
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
child = None
samples = []
def cpu(pid):
    tot = 0
    for f in glob.glob(f'/proc/{pid}/task/*/schedstat'):
        try:
            tot += int(open(f).read().split()[0])
        except Exception:
            pass
    return tot / 1e9
while p.poll() is None:
    if child is None:
        try:
            c = open(f'/proc/{p.pid}/task/{p.pid}/children').read().split()
            child = int(c[0]) if c else None
        except Exception:
            pass
    if child is not None:
        t = time.time(); c = cpu(child)
        if c > 0:
            samples.append((t, c))
    time.sleep(0.005)
rss_kb, u, s = open(out + '.time').read().split()[-3:]
def ts(x):
    return datetime.datetime.strptime(x[:26].rstrip('Z'), '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp()
def cpu_at(t):
    best = None
    for st, c in samples:
        if st <= t: best = c
        else: break
    return best if best is not None else 0.0
ev = [json.loads(l) for l in open(out + '/log.jsonl')]
res = {'method': method, 'seed': int(seed), 'rss_gb': int(rss_kb) / 1e6, 'cpu_total': float(u) + float(s)}
last_epoch = None; steps = []; evals = []
for e in ev:
    if e['event'] == 'epoch':
        end = ts(e['time']); start = end - e['seconds']; tr_end = end - e['eval_seconds']
        tr = cpu_at(tr_end) - cpu_at(start); evc = cpu_at(end) - cpu_at(tr_end)
        last_epoch = tr; evals.append(evc / tr)
    if e['event'] == 'grow':
        end = ts(e['time']); start = end - e['seconds']
        st = cpu_at(end) - cpu_at(start)
        steps.append((st, last_epoch, st / last_epoch))
summ = json.load(open(out + '/summary.json'))
res['steps'] = [(round(a, 3), round(b, 3), round(r, 3)) for a, b, r in steps]
res['eval_ratio'] = (round(min(evals), 3), round(max(evals), 3))
res['acc'] = summ.get('test_accuracy') or summ.get('final', {}).get('test_accuracy')
res['params'] = summ.get('params') or summ.get('final', {}).get('params')
print(json.dumps(res))
