#!/bin/sh
# Sourced by tests/e2e/inside.sh: bad input to the VMM. Each case exits non-zero
# with one line naming the problem; afterwards nothing is left behind.
# e2e-checks: bad-input-missing-kernel bad-input-truncated-kernel bad-input-not-an-image bad-input-initrd-too-big
# e2e-checks: bad-input-memory-not-a-number bad-input-memory-too-small bad-input-zero-cpus bad-input-too-many-cpus
# e2e-checks: bad-input-unknown-option bad-input-no-such-device bad-input-sve-lengths-gap bad-input-sve-lengths-not-a-length
# e2e-checks: bad-input-console-bad bad-input-device-twice bad-input-not-on-vfio-pci bad-input-non-viable-group
# e2e-checks: bad-input-device-in-use bad-input-no-dev-kvm nothing-left-open
check() {  # check NAME EXPECTED_TEXT COMMAND...: exit status != 0 and one line naming the problem
    name=$1 want=$2; shift 2
    out=$("$@" 2>&1 </dev/null); rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && printf '%s' "$out" | grep -qF -- "$want"; then
        echo "e2e: PASS bad-input-$name — exit $rc: $(printf '%s' "$out" | head -1)"
    else
        echo "e2e: FAIL bad-input-$name — exit $rc, wanted '$want', got: $out"
    fi
    [ "$lines" -le 1 ] || [ "$name" = usage ] || echo "e2e: FAIL bad-input-$name-one-line — $lines lines"
}

# 2. Bad input: one line, non-zero exit, nothing left behind (the groups are
#    free again afterwards, which the last check shows by using them).
yes 'not an arm64 Image at all' | head -c 65536 > notimage
truncate -s 300M big.cpio   # sparse: costs no memory
check missing-kernel "cannot read --kernel" $vmm --kernel /nonexistent/Image
head -c $(( $(wc -c <Image) / 2 )) Image >half.Image   # the header intact, the rest cut
check truncated-kernel "it is truncated: its section" $vmm --kernel half.Image
rm -f half.Image
check not-an-image "no arm64 Image magic" $vmm --kernel notimage
check initrd-too-big "the initrd (300 MiB) do not fit in 256 MiB" $vmm --kernel Image --initrd big.cpio --memory 256M
rm -f big.cpio
check memory-not-a-number "not a size" $vmm --kernel Image --memory lots
check memory-too-small "from 64M" $vmm --kernel Image --memory 16M
check zero-cpus "--cpus 0" $vmm --kernel Image --cpus 0
check too-many-cpus "--cpus 99" $vmm --kernel Image --cpus 99
check unknown-option "unknown option" $vmm --kernel Image --frobnicate
check no-such-device "no PCI device 0000:00:1f.0" $vmm $boot --device vfio:0000:00:1f.0
check sve-lengths-gap "KVM takes the host's lengths" $vmm $boot --sve-lengths 128,512
check sve-lengths-not-a-length "'100' is not a vector length" $vmm $boot --sve-lengths 128,100
check console-bad "--console tty: write stdio, none or file:PATH" $vmm $boot --console tty
check device-twice "--device vfio:0000:00:04.0 is given twice" $vmm $boot --device vfio:0000:00:04.0 --device vfio:0000:00:04.0
check not-on-vfio-pci "bind it to vfio-pci" $vmm $boot --device vfio:0000:00:05.1
check non-viable-group "not viable" $vmm $boot --device vfio:0000:00:05.0
group=$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/iommu_group)")
exec 7<>/dev/vfio/$group   # someone else holds edu's group
check device-in-use "already open" $vmm $boot --device vfio:0000:00:04.0
exec 7>&-
mv /dev/kvm /dev/kvm.away
check no-dev-kvm "opening /dev/kvm: open: No such file or directory (ENOENT)" $vmm $boot
mv /dev/kvm.away /dev/kvm
# Nothing left behind by the failed VMMs: the kernel closes a process's fds when it
# exits, so this cannot see a leak inside a VMM that exited (the library's KvmFdLeak
# tests count those); it fails when a failed VMM did not exit (still holding the
# group), or left a device unbound from vfio-pci.
left=$(pidof kvmxx-vmm)
driver=$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")
if [ -z "$left" ] && [ "$driver" = vfio-pci ] && exec 8<>/dev/vfio/$group; then exec 8>&-
    echo "e2e: PASS nothing-left-open — no kvmxx-vmm left running, edu still on vfio-pci, its group opens again"
else echo "e2e: FAIL nothing-left-open — kvmxx-vmm left: '${left}', edu's driver: $driver (or its group is held)"; fi
