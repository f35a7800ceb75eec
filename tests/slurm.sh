#!/usr/bin/env bash
# slurm.sh WORK_DIR
# `kgrade slurm` and `kgrade merge` against a real Slurm: munged, slurmctld
# and slurmd from Debian's packages, started here on localhost from a
# slurm.conf written into WORK_DIR (no accounting: jobs are watched with
# squeue). A run of small shapes on the CPU device is graded once in one process and
# once as a job array of 2 tasks; task 2 is cancelled in the middle of its
# second evaluation and resubmitted; the merged run must hold every
# evaluation once, with the single run's statuses and speedups that agree.
# Then two partitions: an array and a merge each, and the compare job.
# The daemons this script started, and only they, are stopped at the end,
# also when a check fails. Skipped (77), never passed, when they cannot run.
set -u
work=$1
skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*"
    for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/study/logs/*.log; do
        [ -f "$log" ] && { echo "--- $log"; tail -n 15 "$log"; }
    done
    exit 1
}
[ "$(id -u)" = 0 ] || skip "starting munged, slurmctld and slurmd needs root (make test as root or with sudo)"
for prog in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$prog" >/dev/null || skip "$prog not found (apt-get install slurm-wlm munge)"
done
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key (the munge package makes it)"
id munge >/dev/null 2>&1 || skip "no munge user (the munge package makes it)"
if [ -e /run/munge ] && ! [ -d /run/munge ]; then skip "/run/munge is not a folder"; fi

rm -rf "$work" && mkdir -p "$work/state" "$work/spool" "$work/munge"
work=$(cd "$work" && pwd)
# munged runs as its own user, with its socket in a folder only it writes.
mkdir -p /run/munge && chown munge:munge /run/munge "$work/munge" && chmod 0755 "$work/munge"
# Ports of our own, so a Slurm already on the machine is left alone.
port=$((20000 + $$ % 20000))
host=$(hostname -s)
cat >"$work/slurm.conf" <<EOF
ClusterName=kgradetest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=kgtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=kgtest2 Nodes=$host MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf

pids=()
stop_daemons() {
    # Our jobs first (their processes outlive slurmd), then our daemons.
    if [ ${#pids[@]} -gt 1 ]; then
        scancel --quiet --full "--partition=kgtest,kgtest2" 2>/dev/null
        for _ in $(seq 1 50); do
            [ -z "$(squeue --noheader 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[$i]}" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
}
trap stop_daemons EXIT

runuser -u munge -- munged --foreground --socket="$work/munge/munge.socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed" >"$work/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$work/munge/munge.socket" ] || skip "munged did not start: $(tail -n 3 "$work/munged.out")"
slurmctld -D -f "$work/slurm.conf" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$work/slurm.conf" -N "$host" >"$work/slurmd.out" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 1 150); do
    up=$(sinfo --noheader --partition=kgtest --format=%T 2>/dev/null)
    [ "$up" = idle ] && break
    sleep 0.2
done
[ "$up" = idle ] || skip "slurmctld and slurmd did not come up (node state '$up'): $(tail -n 3 "$work/slurmctld.out" "$work/slurmd.out")"
echo "slurm: up on $host, ports $port-$((port + 1))"

# wait_for SECONDS: until none of our jobs is in the queue.
wait_for() {
    local deadline=$((SECONDS + $1))
    while [ -n "$(squeue --noheader)" ]; do
        [ $SECONDS -lt $deadline ] || fail "jobs still queued after $1 s: $(squeue)"
        sleep 0.5
    done
}

# Small shapes: on PoCL, kernels of a few microseconds (smoke) drift by
# tens of percent between two processes; these by about 1%.
opts=(--workload softmax,rmsnorm --size-class small --min-samples 5 --max-samples 1000
    --min-time 1)
cd "$work" || exit 1
"$KGRADE" run "${opts[@]}" --quiet --out single.jsonl >/dev/null
[ $? -le 1 ] || fail "the single-process run failed"

"$KGRADE" slurm "${opts[@]}" --partition kgtest --chunk 2 --array-limit 1 --dir study >submit.txt ||
    fail "kgrade slurm: $(cat submit.txt)"
cat submit.txt
array=$(sed -n 's/.*array job \([0-9]*\) .*/\1/p' submit.txt)
[ -n "$array" ] || fail "no array job id in: $(cat submit.txt)"
[ "$(sed -n 's/^#SBATCH --array=//p' study/array.sbatch)" = "1-2%1" ] || fail "array.sbatch: $(grep array study/array.sbatch)"

# Task 2 (evaluations 3-4): cancelled once its first evaluation is saved.
deadline=$((SECONDS + 240))
while [ "$(wc -l 2>/dev/null <study/shard-2.jsonl || echo 0)" -lt 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "task 2 never saved an evaluation"
    sleep 0.1
done
scancel "${array}_2" || fail "scancel ${array}_2"
wait_for 300
python3 - <<'PY' || fail "after the cancel"
import json
recs = [json.loads(l) for l in open("study/shard-2.jsonl")]
ids = [r["evaluation"] for r in recs if r["type"] == "shape"]
if ids != [3] or recs[-1]["type"] == "summary":
    raise SystemExit(f"FAIL: task 2's shard holds {ids}, last record {recs[-1]['type']}: "
                     "the cancel did not land in its second evaluation")
merged = [json.loads(l) for l in open("study/results.jsonl")]
if merged[0]["merged"]["missing"] != "4":
    raise SystemExit(f"FAIL: the merge job says missing {merged[0]['merged']['missing']!r}, want '4'")
print("cancelled task 2 after evaluation 3; the merge job found 4 missing")
PY
grep -q "array tasks to run again: 2 " study/logs/merge.log || fail "merge.log: $(cat study/logs/merge.log)"

"$KGRADE" slurm --resubmit study >resubmit.txt || fail "--resubmit: $(cat resubmit.txt)"
cat resubmit.txt
grep -q "(tasks 2)" resubmit.txt || fail "--resubmit did not submit task 2 alone"
wait_for 300
"$KGRADE" slurm --resubmit study --no-submit | grep -q "nothing to resubmit" ||
    fail "a second --resubmit still finds evaluations missing"

python3 - <<'PY' || fail "merged against single"
import json, math
TOLERANCE = 0.10
worst = 0.0
def load(path):
    return [json.loads(l) for l in open(path)]
single, merged = load("single.jsonl"), load("study/results.jsonl")
if merged[0]["merged"]["missing"] != "" or merged[-1]["type"] != "summary":
    raise SystemExit(f"FAIL: merged run: missing {merged[0]['merged']['missing']!r}")
if merged[0]["settings"]["run_id"] != single[0]["settings"]["run_id"]:
    raise SystemExit("FAIL: the shards' run_id is not the single run's")
shard2 = [r["evaluation"] for r in load("study/shard-2.jsonl") if r["type"] == "shape"]
if shard2 != [3, 4]:
    raise SystemExit(f"FAIL: shard 2 holds {shard2} after the resubmit, want [3, 4]")
shapes = lambda recs: {r["evaluation"]: r for r in recs if r["type"] == "shape"}
s, m = shapes(single), shapes(merged)
ids = [r["evaluation"] for r in merged if r["type"] == "shape"]
if ids != list(range(1, 5)) or sorted(s) != ids:
    raise SystemExit(f"FAIL: merged evaluations {ids}, single {sorted(s)}")
for i in ids:
    a, b = s[i], m[i]
    if (a["workload"], a["shape"]) != (b["workload"], b["shape"]):
        raise SystemExit(f"FAIL: evaluation {i} is {a['shape']} once, {b['shape']} merged")
    for role in ("baseline", "candidate"):
        if a[role]["status"] != b[role]["status"]:
            raise SystemExit(f"FAIL: evaluation {i} {role}: {a[role]['status']} vs {b[role]['status']}")
    # Two processes timing the same kernels: `kgrade replicate`'s rule
    # (the ratio's 95% interval, from both intervals, holds 1) per shape,
    # or within TOLERANCE: on a shared 2-core machine the drift between two
    # processes (clocks, neighbours) is larger than one run's interval.
    x, y = a["speedup"], b["speedup"]
    se = lambda e: math.log(e["hi"] / e["lo"]) / (2 * 1.96)
    log_ratio = math.log(y["value"] / x["value"])
    agree = abs(log_ratio) <= 1.96 * math.hypot(se(x), se(y)) or abs(math.exp(log_ratio) - 1) <= TOLERANCE
    worst = max(worst, abs(math.exp(log_ratio) - 1))
    print(f"  {i} {a['workload']} {a['shape']}: single {x['value']:.3g} [{x['lo']:.3g}, {x['hi']:.3g}]"
          f", merged {y['value']:.3g} [{y['lo']:.3g}, {y['hi']:.3g}]{'' if agree else '  DISAGREE'}")
    if not agree:
        raise SystemExit(f"FAIL: evaluation {i}: the speedups disagree")
print(f"merged run = single run: 4 evaluations once each, same statuses, speedups agree "
      f"(largest difference {worst:.1%})")
PY

# Two partitions (two device types on a real cluster): an array and a
# merge each, in a folder each, then one job comparing the merged runs.
"$KGRADE" slurm --workload softmax --size-class smoke --min-samples 5 --max-samples 5 \
    --partition kgtest,kgtest2 --chunk 4 --dir cross >cross.txt || fail "two partitions: $(cat cross.txt)"
cat cross.txt
[ "$(grep -c 'array job' cross.txt)" = 2 ] && grep -q "compare job" cross.txt ||
    fail "two partitions: expected two arrays and a compare job"
wait_for 300
for p in kgtest kgtest2; do
    [ "$(python3 -c "import json,sys; r=[json.loads(l) for l in open('cross/$p/results.jsonl')]; print(len([x for x in r if x['type']=='shape']), r[0]['merged']['missing'] == '')")" = "4 True" ] ||
        fail "cross/$p/results.jsonl is not the 4 evaluations of softmax"
done
grep -q "kgtest/results.jsonl" cross/compare.md && grep -q "kgtest2/results.jsonl" cross/compare.md ||
    fail "cross/compare.md does not set the two runs side by side: $(head -c 600 cross/compare.md)"
echo "two partitions: merged apart, compared in cross/compare.md"
