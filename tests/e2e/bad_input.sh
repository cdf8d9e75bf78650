#!/bin/sh
# Sourced by tests/e2e/inside.sh: bad input to the VMM. Each case exits non-zero
# with one line naming the problem; afterwards nothing is left behind.
# e2e-checks: bad-input-missing-kernel bad-input-truncated-kernel bad-input-not-an-image bad-input-initrd-too-big
# e2e-checks: bad-input-memory-not-a-number bad-input-memory-too-small bad-input-zero-cpus bad-input-too-many-cpus
# e2e-checks: bad-input-unknown-option bad-input-no-such-device bad-input-sve-lengths-gap bad-input-sve-lengths-not-a-length
# e2e-checks: bad-input-console-bad bad-input-device-twice bad-input-not-on-vfio-pci bad-input-non-viable-group
# e2e-checks: bad-input-device-in-use bad-input-no-dev-kvm nothing-left-open
# e2e-checks: bad-input-no-kernel bad-input-kernel-no-value bad-input-memory-no-value bad-input-memory-odd
# e2e-checks: bad-input-memory-too-big bad-input-cpus-not-a-number bad-input-cpus-with-junk bad-input-device-no-prefix
# e2e-checks: bad-input-device-empty bad-input-device-not-an-address bad-input-device-path-escape
# e2e-checks: bad-input-sve-lengths-with-no-sve bad-input-sve-lengths-empty bad-input-initrd-missing
# e2e-checks: bad-input-kernel-directory bad-input-kernel-empty bad-input-image-size-smaller
# e2e-checks: bad-input-kernel-too-big-for-ram bad-input-console-unopenable bad-input-console-no-value
# e2e-checks: bad-input-cmdline-no-value bad-input-dev-kvm-not-kvm bad-input-no-vfio-container
# e2e-checks: bad-input-fds-exhausted-early bad-input-fds-exhausted-at-each-step
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

# A command line refused by the option parser (exit 2 before any file or device is
# opened) runs without LeakSanitizer in the ASan run: its exit scan costs 8-25 s a
# run under TCG (measured: an ASan VMM refusing --cpus 0 took 25 s with it, 3 s
# without), and the parser is leak-checked already, by libFuzzer's leak detection
# in tests/fuzz/options.cpp. ASan and UBSan stay on.
parse_check() {  # parse_check NAME EXPECTED_TEXT COMMAND...: check, with ASan's leak check off
    name=$1 want=$2; shift 2
    check "$name" "$want" env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
}

# 2. Bad input: one line, non-zero exit, nothing left behind (the groups are
#    free again afterwards, which the last check shows by using them).
# A file without the Image header is a raw binary now (raw-payload boots one); a
# kernel still gzipped is refused by name.
{ printf '\037\213\010\000'; head -c 65532 /dev/zero; } > notimage
truncate -s 300M big.cpio   # sparse: costs no memory
check missing-kernel "cannot read --kernel" $vmm --kernel /nonexistent/Image
head -c $(( $(wc -c <Image) / 2 )) Image >half.Image   # the header intact, the rest cut
check truncated-kernel "it is truncated: its section" $vmm --kernel half.Image
rm -f half.Image
check not-an-image "it is a gzip file (a vmlinuz.gz?): gunzip it" $vmm --kernel notimage
check initrd-too-big "the initrd (300 MiB) do not fit in 256 MiB" $vmm --kernel Image --initrd big.cpio --memory 256M
rm -f big.cpio
parse_check memory-not-a-number "not a size" $vmm --kernel Image --memory lots
parse_check memory-too-small "from 64M" $vmm --kernel Image --memory 16M
parse_check zero-cpus "--cpus 0" $vmm --kernel Image --cpus 0
parse_check too-many-cpus "--cpus 99" $vmm --kernel Image --cpus 99
parse_check unknown-option "unknown option" $vmm --kernel Image --frobnicate
check no-such-device "no PCI device 0000:00:1f.0" $vmm $boot --device vfio:0000:00:1f.0
check sve-lengths-gap "KVM takes the host's lengths" $vmm $boot --sve-lengths 128,512
parse_check sve-lengths-not-a-length "'100' is not a vector length" $vmm $boot --sve-lengths 128,100
parse_check console-bad "--console tty: write stdio, none or file:PATH" $vmm $boot --console tty
parse_check device-twice "--device vfio:0000:00:04.0 is given twice" $vmm $boot --device vfio:0000:00:04.0 --device vfio:0000:00:04.0
check not-on-vfio-pci "bind it to vfio-pci" $vmm $boot --device vfio:0000:00:05.1
check non-viable-group "not viable" $vmm $boot --device vfio:0000:00:05.0
# The command line, option by option.
parse_check no-kernel "--kernel is missing: give an arm64 Image" $vmm --memory 256M
parse_check kernel-no-value "--kernel needs a file" $vmm --kernel
parse_check memory-no-value "--memory needs a size" $vmm --kernel Image --memory
parse_check memory-odd "--memory 65M: give a multiple of 2M" $vmm --kernel Image --memory 65M
parse_check memory-too-big "--memory 128G: give a multiple of 2M from 64M to 64G" $vmm --kernel Image --memory 128G
parse_check cpus-not-a-number "--cpus two: give a number from 1 to 8" $vmm --kernel Image --cpus two
parse_check cpus-with-junk "--cpus 2x: give a number from 1 to 8" $vmm --kernel Image --cpus 2x
parse_check device-no-prefix "--device 0000:00:04.0: write vfio:BDF" $vmm $boot --device 0000:00:04.0
parse_check device-empty "--device vfio:: write vfio:BDF" $vmm $boot --device vfio:
parse_check device-not-an-address "--device vfio:00:04: not a PCI address" $vmm $boot --device vfio:00:04
parse_check device-path-escape "not a PCI address" $vmm $boot --device vfio:../../../dev/kvm
parse_check sve-lengths-with-no-sve "--sve-lengths with --no-sve: give one or the other" $vmm $boot --no-sve --sve-lengths 128
parse_check sve-lengths-empty "'' is not a vector length" $vmm $boot --sve-lengths ""
parse_check console-no-value "--console needs stdio, none or file:PATH" $vmm $boot --console
check console-unopenable "cannot open /nonexistent/dir/log" $vmm $boot --console file:/nonexistent/dir/log
parse_check cmdline-no-value "--cmdline needs a string" $vmm $boot --cmdline
# The files: what is not a readable file, not an Image, or an Image whose header lies.
check initrd-missing "cannot read --initrd /nonexistent.cpio: No such file or directory" \
    $vmm --kernel Image --initrd /nonexistent.cpio
check kernel-directory "cannot read --kernel /: Is a directory" $vmm --kernel /
: >empty.Image
check kernel-empty "it is empty: give an arm64 Image or a raw binary" $vmm --kernel empty.Image
rm -f empty.Image
cp Image lying.Image   # image_size (8 bytes at offset 16) rewritten: 4 KiB, then 4 GiB
printf '\000\020\000\000\000\000\000\000' | dd of=lying.Image bs=1 seek=16 conv=notrunc 2>/dev/null
check image-size-smaller "its header says image_size=4096 but the file is larger" $vmm --kernel lying.Image
printf '\000\000\000\000\001\000\000\000' | dd of=lying.Image bs=1 seek=16 conv=notrunc 2>/dev/null
check kernel-too-big-for-ram "the kernel does not fit in 64 MiB of RAM; give --memory more" \
    $vmm --kernel lying.Image --memory 64M
rm -f lying.Image
# The host: a /dev/kvm that is not KVM, no VFIO container node, no fds left.
mv /dev/kvm /dev/kvm.away && mknod /dev/kvm c 1 3   # /dev/null's numbers
check dev-kvm-not-kvm "/dev/kvm is not a KVM device" $vmm $boot
rm -f /dev/kvm && mv /dev/kvm.away /dev/kvm
mv /dev/vfio/vfio /dev/vfio/vfio.away
check no-vfio-container "[/dev/vfio/vfio]" $vmm $boot --device vfio:0000:00:04.0
mv /dev/vfio/vfio.away /dev/vfio/vfio
# RLIMIT_NOFILE from 4 (one fd past stdio) up: each limit refuses the VMM a later fd
# of its setup, and each run must end in one EMFILE line naming its step, until the
# limit is high enough to boot (a guest with no init that panics: exit 0 with
# --allow-reset).
check fds-exhausted-early "cannot read --initrd guest.cpio: Too many open files" sh -c 'ulimit -n 4 && exec "$@"' sh $vmm $boot
n=4 steps="" bad=""
while [ $n -le 64 ]; do
    out=$(sh -c 'ulimit -n '$n' && exec "$@"' sh $vmm --kernel Image --memory 128M --allow-reset \
          --cmdline "console=ttyAMA0 panic=-1 rdinit=/none" --device vfio:0000:00:04.0 2>&1 </dev/null); rc=$?
    printf '%s' "$out" | grep -q "Too many open files" || break
    first=$(printf '%s\n' "$out" | grep -m1 "Too many open files")
    step=$(printf '%s' "$first" | sed 's/^kvmxx-vmm: //; s/: Too many open files.*//; s/ (EMFILE).*//; s/^\(.\{60\}\).*/\1/')
    [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] || bad="$bad n=$n: exit $rc, $(printf '%s\n' "$out" | grep -c .) lines;"
    case "$steps" in *"[$step]"*) ;; *) steps="$steps[$step]" ;; esac
    n=$((n + 1))
done
kinds=$(printf '%s' "$steps" | tr -cd '[' | wc -c)
if [ -z "$bad" ] && [ $rc -eq 0 ] && [ $n -gt 8 ] && [ "$kinds" -ge 4 ]; then
    echo "e2e: PASS bad-input-fds-exhausted-at-each-step — limits 4..$((n - 1)): one EMFILE line each, $kinds steps: $steps; at $n the guest boots (exit 0)"
else
    echo "e2e: FAIL bad-input-fds-exhausted-at-each-step — stopped at limit $n with exit $rc ($out); $bad steps: $steps"
fi
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
