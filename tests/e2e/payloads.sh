#!/bin/sh
# Sourced by tests/e2e/inside.sh: the bare-metal payloads (tests/e2e/payloads/*.S),
# flat binaries with no Image header, which kvmxx-vmm boots as raw binaries at RAM
# + 0x80000 with the DTB address in x0. Each finds the PL011 (and the GIC) in the
# device tree, prints "kvmxx-payload: ..." lines, ends with "kvmxx-payload: status
# ok" and powers off through PSCI SYSTEM_OFF: the VMM exits 0.
# e2e-checks: raw-payload psci-smp timer-irq pmu
payload() {  # payload CHECK WANT VMM_ARGS...: PASS with exit 0, status ok and a line with WANT
    # (and, when $once is set, that text exactly once in the output: a VMM line)
    check=$1 want=$2; shift 2
    out=$(timeout -s TERM 60 $vmm "$@" 2>&1 </dev/null); rc=$?
    out=$(printf '%s\n' "$out" | tr -d '\r')
    line=$(printf '%s\n' "$out" | grep -m1 -F -- "$want")
    n=1; [ -z "${once:-}" ] || n=$(printf '%s\n' "$out" | grep -c -F -- "$once")
    if [ $rc -eq 0 ] && [ -n "$line" ] && [ "$n" -eq 1 ] && printf '%s\n' "$out" | grep -qx 'kvmxx-payload: status ok'; then
        echo "e2e: PASS $check — ${line#kvmxx-payload: }${extra:-}"
    else echo "e2e: FAIL $check — exit $rc, $n line(s) '${once:-}' (want 1): $(printf '%s\n' "$out" | tail -4 | tr '\n' '|')"; fi
}

# The raw binary: one warning line, then the payload speaks through the PL011 of the DT.
once="has no arm64 Image header: loading it as a raw binary at 0x40080000, entered there with the DTB address in x0"
extra="; the VMM warned once: $once"
payload raw-payload "hello from a raw binary at 0x40080000, through the PL011 at 0x9000000 found in the DTB at" \
    --kernel payloads/hello.bin --memory 64M
once="" extra=""

# Every secondary through PSCI CPU_ON, an SGI each way; kvmtool's spellings (-k -c -m -p).
payload psci-smp "CPU_ON started vCPUs 1..3; one by one each took SGI 1 from vCPU 0 and sent SGI 2 back (3 taken)" \
    -k payloads/smp.bin -c 4 -m 64M -p "ignored by a bare-metal payload"

# The virtual timer's interrupt, taken as an exception.
payload timer-irq "virtual timer: INTID 27 taken" --kernel payloads/timer.bin --memory 64M

# The PMU with --pmu; without it the guest sees none (PMUVer 0), as the payload says.
nopmu=$(timeout -s TERM 60 $vmm --kernel payloads/pmu.bin --memory 64M 2>&1 </dev/null | tr -d '\r')
if printf '%s\n' "$nopmu" | grep -q 'status FAIL: no PMUv3'; then extra="; without --pmu the guest sees no PMUv3"
else extra=""; echo "e2e: FAIL pmu — without --pmu: $(printf '%s\n' "$nopmu" | tail -2 | tr '\n' '|')"; fi
payload pmu "cycles counted over a 100000-iteration loop" --kernel payloads/pmu.bin --memory 64M --pmu
extra=""
