#!/bin/sh
# Sourced by tests/e2e/inside.sh: a hostile guest. kvmxx-vmm boots the guest with
# both devices passed through and kvmxx_hostile=SECONDS on its command line, where
# /init runs hostile_guest (tests/e2e/hostile_guest.cpp): for SECONDS it writes
# random values at random widths through /dev/mem to both functions' config space
# (BARs moved over RAM, the GIC, the UART, each other and out of the windows; MSI
# and MSI-X toggled), their BARs with NVMe's MSI-X table and PBA, the PL011, the
# boot timer and unmapped MMIO, and points edu's DMA at IOVAs outside guest RAM,
# the physical address of a canary page in this (the emulated) host among them.
# Then, in the same run, it restores the config space, rescans, and reads the NVMe
# disk's first sector. PASS when the guest's own checks passed, the VMM lived through
# it and exited 0 with few log lines, this host's log has arm-smmu-v3 events (the
# SMMU stopped the stray DMA), and the canary page is unchanged.
#   E2E_HOSTILE_SECONDS (tests/e2e/run: KVMXX_E2E_HOSTILE_SECONDS) how long, default 20
#     (the issue asked for about 60; 20 keep the whole check near 90 s in CI, where
#     each trapped access is a nested exit under TCG: about 70 accesses a second)
#   E2E_HOSTILE_SEED (KVMXX_E2E_HOSTILE_SEED) the seed, default the time; printed either way
# e2e-checks: hostile-guest
hostile_secs=${E2E_HOSTILE_SECONDS:-20}
hostile_seed=${E2E_HOSTILE_SEED:-$(date +%s)}
# The canary: a locked page of this host outside guest RAM's IOVAs (0x40000000 + 256M).
rm -f canary.in canary.out && mkfifo canary.in
./hostile_guest --canary 0x40000000 0x50000000 <canary.in >canary.out 2>&1 &
canary_pid=$!
exec 8>canary.in
i=0; while [ $i -lt 40 ] && ! grep -q '^canary' canary.out; do sleep 0.5; i=$((i + 1)); done
canary_pa=$(sed -n 's/^canary pa=//p' canary.out)
smmu_before=$(dmesg | grep -c 'arm-smmu-v3.*event 0x')
hostile_start=$(date +%s)
timeout -s TERM $((hostile_secs + 300)) $vmm --kernel Image --initrd guest.cpio --memory 256M --cpus 2 \
    --cmdline "console=ttyAMA0 rdinit=/init panic=-1 loglevel=1 iomem=relaxed kvmxx_hostile=$hostile_secs kvmxx_hostile_seed=$hostile_seed kvmxx_canary=${canary_pa:-0}" \
    --device vfio:0000:00:03.0 --device vfio:0000:00:04.0 </dev/null >hostile.out 2>&1
rc=$?
hostile_took=$(( $(date +%s) - hostile_start ))
exec 8>&-
wait $canary_pid
canary=$(grep -a '^canary' canary.out | tail -1)
smmu=$(( $(dmesg | grep -c 'arm-smmu-v3.*event 0x') - smmu_before ))
# The events whose words (the input address is the third of four) fall in the canary's page.
on_canary=0
[ -n "$canary_pa" ] && on_canary=$(dmesg | grep -A4 'arm-smmu-v3.*event 0x' | sed -n 's/.*0x\([0-9a-f]\{16\}\)$/\1/p' |
    while read -r w; do [ $(( 0x$w >> 12 )) -eq $(( canary_pa >> 12 )) ] && echo; done | wc -l)
guest=$(tr -d '\r' <hostile.out | grep -a -o 'hostile-guest: \(ok\|FAIL\) .*' | tail -1)
vmm_lines=$(grep -a -c '^kvmxx-vmm:' hostile.out)
# The guest's own kernel must have lived through it too (its console is hostile.out).
guest_alarms=$(grep -a -c -E 'Kernel panic|BUG:|Oops|WARNING:|Internal error' hostile.out)
if [ $rc -eq 0 ] && [ "${guest#hostile-guest: ok }" != "$guest" ] && [ "$smmu" -gt 0 ] &&
   [ "${canary#canary: intact}" != "$canary" ] && [ "$vmm_lines" -le 40 ] && [ "$guest_alarms" -eq 0 ]; then
    echo "e2e: PASS hostile-guest — ${guest#hostile-guest: ok }; kvmxx-vmm lived through it (the guest's checks after it ran in the same VMM) and exited 0 after ${hostile_took} s with $vmm_lines log line(s), the guest's kernel clean; the SMMU stopped the stray DMA: $smmu arm-smmu-v3 event(s) in this host's log ($on_canary naming the canary's page $canary_pa); ${canary#canary: }"
else
    echo "e2e: FAIL hostile-guest — seed $hostile_seed, ${hostile_secs} s: kvmxx-vmm exit $rc after ${hostile_took} s, $vmm_lines log line(s) (40 allowed), $guest_alarms guest kernel alarm(s); guest: ${guest:-no result line}; $smmu arm-smmu-v3 event(s); ${canary:-no canary}; last lines: $(tr -d '\r' <hostile.out | grep -a -v '^hostile-guest' | tail -4 | tr '\n' '|')"
    grep -a '^kvmxx-vmm:' hostile.out | sort | uniq -c | sort -rn | head -10
fi
rm -f canary.in canary.out hostile.out
