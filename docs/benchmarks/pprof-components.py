#!/usr/bin/env python3
"""Group a registryd CPU profile's samples by component (BENCHMARKS.md, issue 19, tenth round).

Each sample's stack, read leaf first, goes to the first frame that names a component (OWNER
below); a stack in the collector goes to GC; one whose leaf is a system call is listed under
syscalls with the component that made it; LevelDB is listed with the component above it.
FOLD=<sig-eq per tx per validator> folds system calls and LevelDB into the component that made
them and prints each share also in sig-eq per transaction.

usage:
  go tool pprof -traces registryd profile.node0 > node0.traces     # one file per validator
  python3 docs/benchmarks/pprof-components.py node*.traces
  FOLD=4.06 python3 docs/benchmarks/pprof-components.py node*.traces

CometBFT v1's internal/ package paths (internal/consensus, internal/autofile, ...) are matched as
v0.38's.
"""
import re, sys, collections

def parse(path):
    txt = open(path).read()
    for block in txt.split('-----------+-------------------------------------------------------')[1:]:
        lines = [l for l in block.split('\n') if l.strip()]
        if not lines: continue
        m = re.match(r'\s*([\d.]+)(ms|s|us)\s+(.*)', lines[0])
        if not m: continue
        v = float(m.group(1)) * {'ms': 1e-3, 's': 1, 'us': 1e-6}[m.group(2)]
        frames = [m.group(3).strip()] + [l.strip() for l in lines[1:]]
        frames = [re.sub(r' \(inline\)$', '', f) for f in frames]
        yield v, frames  # leaf first

GC = re.compile(r'^runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep|bgscavenge|gcStart|gcMarkDone|gcMarkTermination|forEachP|stopTheWorld|sweepone|deductSweepCredit)')
SCHED = re.compile(r'^runtime\.(schedule|findRunnable|park_m|goexit0|mcall|wakep|startm|stopm|notewakeup|netpoll|ready|goready|handoffp|injectglist|resetspinning|gosched_m|goschedImpl|preemptPark|exitsyscall|entersyscall|newproc|newproc1|morestack|newstack|copystack|runqgrab|stealWork|sysmon|retake|semasleep|semawakeup|futexsleep|futexwakeup|lock2|unlock2|checkTimers|runtimer|notesleep|mPark)$')
SYSCALL = re.compile(r'^(syscall\.|internal/runtime/syscall|internal/poll\.)')

# Each pattern must match the start of a frame (package path, then the function), so a generic
# function whose type arguments name a package (machine.(*lru[...credentials/key.Alg...]).get)
# is not taken for that package.
G = 'github.com/'
OWNER = [
    ('p2p: our relay', re.compile(r'^' + G + r'medid/medid/registry/node\.(\(\*txRelay\)|[^.]*[Rr]elay)')),
    ('signature (ed25519)', re.compile(r'^(' + G + r'oasisprotocol/curve25519-voi|crypto/ed25519|filippo\.io/edwards25519|crypto/internal/fips140/ed25519|crypto/internal/fips140/edwards25519|' + G + r'medid/medid/credentials/key\.)')),
    ('IAVL', re.compile(r'^' + G + r'cosmos/iavl')),
    ('LevelDB', re.compile(r'^' + G + r'(syndtr/goleveldb|cometbft/cometbft-db)')),
    ('consensus WAL', re.compile(r'^' + G + r'cometbft/cometbft/(internal/)?(consensus\.\(\*BaseWAL\)|consensus\.\(\*WALEncoder\)|consensus\.\(\*WALDecoder\)|libs/autofile|autofile)')),
    ('consensus', re.compile(r'^' + G + r'cometbft/cometbft/(internal/consensus|consensus|privval)')),
    ('block store', re.compile(r'^' + G + r'cometbft/cometbft/store\.')),
    ('state store', re.compile(r'^' + G + r'cometbft/cometbft/state\.(dbStore|\(\*dbStore\)|\(dbStore\))')),
    ('event bus', re.compile(r'^' + G + r'cometbft/cometbft/(libs/pubsub|types\.\(\*EventBus\))')),
    ('block execution (CometBFT)', re.compile(r'^' + G + r'cometbft/cometbft/state\.')),
    ('mempool', re.compile(r'^' + G + r'cometbft/cometbft/mempool')),
    ('p2p', re.compile(r'^' + G + r'cometbft/cometbft/p2p')),
    ('our state machine', re.compile(r'^' + G + r'medid/medid/(registry/machine|registry/tx|registry/ledger|credentials|internal/ijson|internal/jose)')),
    ('HTTP API', re.compile(r'^(' + G + r'medid/medid/registry/api|' + G + r'medid/medid/internal/|net/http)')),
    ('our node (submit, watcher, workers)', re.compile(r'^' + G + r'medid/medid/registry/node\.')),
    ('logging', re.compile(r'^(' + G + r'cometbft/cometbft/libs/log|log/slog)')),
    ('blocksync/statesync/evidence', re.compile(r'^' + G + r'cometbft/cometbft/(internal/)?(blocksync|statesync|evidence)')),
    ('start-up (main goroutine)', re.compile(r'^(main\.|runtime\.main$)')),
]

def classify(frames):
    if any(GC.match(f) for f in frames): return 'GC', None
    leafsys = any(SYSCALL.match(f) for f in frames[:12])
    owner = None
    for f in frames:
        for name, rx in OWNER:
            if rx.match(f):
                owner = name; break
        if owner: break
    # signatures: the transaction's (our machine) or CometBFT's (votes, commits)
    if owner == 'signature (ed25519)':
        if not any(f.startswith(G + 'medid/medid/registry') for f in frames):
            owner = 'signature (CometBFT votes/commits)'
    if owner == 'LevelDB':
        above = None
        for f in frames:
            for name, rx in OWNER:
                if name in ('LevelDB', 'p2p: our relay', 'signature (ed25519)'): continue
                if rx.match(f): above = name; break
            if above: break
        return 'LevelDB', above
    if leafsys:
        if owner is None and any(SCHED.match(f) for f in frames): return 'Go scheduler', None
        return 'syscalls', owner
    if owner is None:
        if any(SCHED.match(f) for f in frames): return 'Go scheduler', None
        return 'other runtime', frames[0]
    # scheduler work done on behalf of an owner (channel wakeups) stays the owner's
    return owner, None

def main():
    tot = 0.0
    prim = collections.Counter(); sub = collections.defaultdict(collections.Counter)
    for p in sys.argv[1:]:
        for v, fr in parse(p):
            c, s = classify(fr)
            tot += v; prim[c] += v
            if s: sub[c][s] += v
    print(f'total {tot:.2f}s')
    for c, v in prim.most_common():
        print(f'{100*v/tot:6.2f}%  {c}')
        for s, w in sub[c].most_common(6):
            print(f'         {100*w/tot:6.2f}%  {s}')

def folded(paths, sigeq):
    tot = 0.0; c = collections.Counter()
    for p in paths:
        for v, fr in parse(p):
            a, s = classify(fr)
            if a in ('syscalls', 'LevelDB') and s: a = s
            elif a in ('syscalls', 'LevelDB'): a = a + ' (no owner)'
            tot += v; c[a] += v
    print('--- folded (syscalls and LevelDB under their owner); sig-eq at', sigeq)
    for k, v in c.most_common():
        print(f'{100*v/tot:6.2f}%  {sigeq*v/tot:5.2f}  {k}')

import os
if os.environ.get("FOLD"): folded(sys.argv[1:], float(os.environ["FOLD"]))
else: main()
