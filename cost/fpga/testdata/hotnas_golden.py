# Drives hotNAS's PM_FPGA_Template on random (layer, tiling) cases and prints
# one JSON object per case: the golden data for nadir's cost/fpga test.
# Usage: copy Performance_Model/PM_{FPGA_Template,Config,Layer}.py of
# hotNAS-CODES20 into a scratch directory with this script, then
#   python3 hotnas_golden.py 120 > hotnas_golden.json
import json, random, sys, io, contextlib
import PM_Layer
from PM_FPGA_Template import FPGA_Templates

rng = random.Random(20261130)
out = []
n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
while len(out) < n:
    K = rng.choice([1, 3, 5, 7])
    S = rng.choice([1, 2])
    P = rng.choice([0, K // 2])
    B = rng.choice([1, 1, 1, 2, 4])
    M = rng.randint(1, 128); N = rng.randint(1, 128)
    R = rng.randint(1, 56); C = rng.choice([R, rng.randint(1, 56)])
    Tk = rng.choice([K, K, 7]) if K < 7 else 7
    Tm = rng.choice([1, 2, 4, 8, 16, 32, 64, rng.randint(1, 96)])
    Tn = rng.choice([1, 2, 4, 8, 16, 32, rng.randint(1, 48)])
    Tr = rng.randint(1, max(1, R + 4)); Tc = rng.choice([Tr, rng.randint(1, max(1, C + 4))])
    Wp = rng.choice([1, 2, 4, 8, 16]); Ip = rng.choice([1, 2, 4, 8, 16, 32]); Op = rng.choice([1, 2, 4, 8, 16])
    bits = rng.choice([16, 16, 16, 32])
    rDSP = rng.choice([220, 900, 2520, 6840]); rPort = rng.choice([256, 512, 1024])
    rBRAM = 1824
    with contextlib.redirect_stdout(io.StringIO()):
        acc = FPGA_Templates(Tm, Tn, Tr, Tc, Tk, Wp, Ip, Op, "cconv", rPort, rDSP, rBRAM, 18000, bits)
        layer = PM_Layer.Layer_Class(B, M, N, R, C, K, S, "cconv", P)
        lat, bn, parts = acc.get_layer_latency(layer)
    out.append(dict(layer=dict(B=B, M=M, N=N, R=R, C=C, K=K, S=S, P=P),
                    tiling=dict(Tm=Tm, Tn=Tn, Tr=Tr, Tc=Tc, Tk=Tk, Wp=Wp, Ip=Ip, Op=Op),
                    bits=bits, board=dict(dsp=rDSP, port_bits=rPort, bram18k=rBRAM),
                    feasible=acc.Success, cycles=repr(float(lat)), bottleneck=bn,
                    dsp=acc.usage_DSP, bram=acc.usage_BRAM, port_bits=acc.usage_comm_bw))
src = "hotNAS-CODES20 Performance_Model/PM_FPGA_Template.py (commit 44ad9e3), driven by a nadir script"
print('{"source": %s,\n "cases": [' % json.dumps(src))
print(',\n'.join('  ' + json.dumps(c) for c in out))
print(' ]\n}')
