#!/bin/sh
# Runs inside the aarch64 testbed (tests/e2e/run): boots the kvmxx-vmm guest with
# the NVMe disk and edu passed through, then runs the other parts (tests/e2e/*.sh,
# each sourced in the order tests/e2e/run gives). Every check prints
#   e2e: PASS|FAIL name — detail
# and each part lists the checks it prints on its "# e2e-checks:" lines, which
# tests/e2e/run collects; the guest's own checks come through its console.
# e2e-checks: find-devices edu-id edu-factorial edu-intx nvme-read nvme-msix cpu1-online vmm-exit
# e2e-checks: reset-is-a-failure reset-allowed console-input console-pty console-pty-crash
# e2e-checks: empty-pci-bus quiet-guest-hint sve ptrauth no-sve no-ptrauth
vmm=./kvmxx-vmm
# A sanitized, dynamic VMM (tests/e2e/run with KVMXX_E2E_VMM) brought its loader
# and libraries in ./lib: they go where its PT_INTERP and the loader look.
if [ -d lib ]; then mkdir -p /lib && for l in lib/*; do ln -sf "$PWD/$l" /lib/; done; fi
boot="--kernel Image --initrd guest.cpio --memory 256M"

# E2E_PARTS_ONLY=1 (tests/e2e/run with KVMXX_E2E_PARTS): only the parts, no Linux boots here.
if [ -z "${E2E_PARTS_ONLY:-}" ]; then
# 1. The main event: both devices, 2 vCPUs (the second started by the guest).
#    SVE limited to 128 and 256 bits, pointer authentication by default.
$vmm $boot --cpus 2 --cmdline "console=ttyAMA0 rdinit=/init panic=-1 maxcpus=1 loglevel=4 kvmxx_sve=256 kvmxx_ptrauth=1" \
    --sve-lengths 128,256 --device vfio:0000:00:03.0 --device vfio:0000:00:04.0 $E2E_VMM_ARGS </dev/null
rc=$?
if [ $rc -eq 0 ]; then echo "e2e: PASS vmm-exit — kvmxx-vmm exited 0 after the guest powered off"
else echo "e2e: FAIL vmm-exit — kvmxx-vmm exited $rc"; fi

# 1b. A guest reset is not a success: a guest kernel that panics (no root device;
#     panic=-1 reboots at once) makes the VMM exit 3, and 0 only with --allow-reset.
reset_boot() {
    $vmm --kernel Image --memory 128M --cmdline "console=ttyAMA0 root=/dev/none panic=-1 loglevel=1" "$@" \
        >reset.out 2>&1 </dev/null
}
reset_boot; rc=$?
if [ $rc -eq 3 ] && grep -q "the guest reset (exit 3" reset.out && grep -q "Kernel panic" reset.out; then
    echo "e2e: PASS reset-is-a-failure — the guest panicked and reset: exit 3, the reset named on stderr"
else echo "e2e: FAIL reset-is-a-failure — exit $rc after a guest panic (want 3): $(tail -2 reset.out | tr '\n' ' ')"; fi
reset_boot --allow-reset; rc=$?
if [ $rc -eq 0 ] && grep -q "Kernel panic" reset.out; then
    echo "e2e: PASS reset-allowed — the same panic with --allow-reset: exit 0"
else echo "e2e: FAIL reset-allowed — exit $rc with --allow-reset (want 0): $(tail -2 reset.out | tr '\n' ' ')"; fi
rm -f reset.out

# 1c. No --device: the guest still finds a PCI host bridge, with an empty bus;
#     and no SVE or pointer authentication when refused.
$vmm $boot --no-sve --no-ptrauth \
    --cmdline "console=ttyAMA0 rdinit=/init panic=-1 loglevel=4 kvmxx_checks=--empty-bus kvmxx_sve=0 kvmxx_ptrauth=0" \
    >empty.out 2>&1 </dev/null
rc=$?
grep -E '^e2e: ' empty.out | tr -d '\r'
[ $rc -eq 0 ] || echo "e2e: FAIL empty-pci-bus — kvmxx-vmm exited $rc: $(tail -2 empty.out | tr '\n' ' ')"
rm -f empty.out

# 1d. A guest that prints nothing (an Image whose first instruction branches to
#     itself) gets one hint line after 10 s; SIGTERM then stops the VMM (128 + 15).
#     The hint is awaited (up to 60 s), not assumed at a fixed time: an ASan VMM
#     under TCG on a loaded machine took more than 4 s just to start.
{ printf '\000\000\000\024'; head -c 52 /dev/zero; printf 'ARM\144'; head -c 4 /dev/zero; } >quiet.Image
$vmm --kernel quiet.Image --memory 64M >quiet.out 2>&1 </dev/null &
pid=$!
i=0; while [ $i -lt 120 ] && ! grep -q "hint: the guest has printed nothing" quiet.out; do sleep 0.5; i=$((i + 1)); done
sleep 2   # one hint, not one per tick: a second one would come within these 2 s
kill -TERM $pid; wait $pid
rc=$?
hints=$(grep -c "hint: the guest has printed nothing in 10 s" quiet.out)
if [ $rc -eq 143 ] && [ "$hints" -eq 1 ]; then
    echo "e2e: PASS quiet-guest-hint — one hint after 10 s of silence (seen after $((i / 2)) s), then SIGTERM: exit 143"
else echo "e2e: FAIL quiet-guest-hint — exit $rc (want 143), $hints hint line(s): $(tr '\n' ' ' <quiet.out)"; fi
rm -f quiet.Image quiet.out

# 1e. The console takes input: a shell in the guest (kvmxx_shell=1), typed into
#     through a pipe, then through a pseudo-terminal as a person would (pty_run:
#     tests/e2e/pty_run.cpp, a script(1) of our own; the emulated host has none).
shell_boot="$vmm --kernel Image --initrd guest.cpio --memory 256M"
shell_cmdline="console=ttyAMA0 rdinit=/init panic=-1 loglevel=1 kvmxx_shell=1"
wait_for() {  # wait_for FILE LINE SECONDS: until FILE has LINE (CRs ignored) as a whole line
    i=0; while [ $i -lt $(( $3 * 2 )) ]; do tr -d '\r' <"$1" | grep -qx -- "$2" && return 0; sleep 0.5; i=$((i + 1)); done
    return 1
}
rm -f con.in con.out && mkfifo con.in
$shell_boot --cmdline "$shell_cmdline" <con.in >con.out 2>&1 &
pid=$!
exec 9<>con.in   # read-write: a write never dies of SIGPIPE if the VMM is gone
wait_for con.out kvmxx-shell-ready 120 && sleep 1
printf 'echo $((6*7))\n' >&9
wait_for con.out 42 20
printf 'poweroff -f\n' >&9
wait $pid; rc=$?
exec 9>&-
if [ $rc -eq 0 ] && wait_for con.out 42 1; then
    echo "e2e: PASS console-input — typed 'echo \$((6*7))' into the guest's shell through a pipe, read 42; exit 0"
else echo "e2e: FAIL console-input — exit $rc: $(tr -d '\r' <con.out | tail -5 | tr '\n' '|')"; fi

# In a pseudo-terminal: raw mode (Enter is a CR), Ctrl-A x quits, and the terminal
# is itself again afterwards (stty -a, run in the same terminal, says icanon echo).
# Then once more, killed with SIGSEGV as a crashing vCPU thread would be: restored too.
[ -e /dev/pts/ptmx ] || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }  # ptys need devpts
pty_run() {  # pty_run END: END = quit (Ctrl-A x) or segv
    rm -f con.in con.out && mkfifo con.in
    ./pty_run con.out sh -c "$shell_boot --cmdline '$shell_cmdline'; echo vmm-exit=\$?; stty -a" <con.in >/dev/null 2>&1 &
    spid=$!
    exec 9<>con.in   # read-write: a write never dies of SIGPIPE if pty_run is gone
    wait_for con.out kvmxx-shell-ready 120 && sleep 1
    printf 'echo $((6*7))\r' >&9
    wait_for con.out 42 20
    if [ "$1" = quit ]; then printf '\001x' >&9
    else kill -SEGV "$(pidof kvmxx-vmm)"; fi
    i=0; while [ $i -lt 40 ] && ! grep -q 'vmm-exit=' con.out; do sleep 0.5; i=$((i + 1)); done
    sleep 1
    exec 9>&-
    wait $spid
    out=$(tr -d '\r' <con.out)
}
pty_run quit
if echo "$out" | grep -qx 42 && echo "$out" | grep -q 'raw terminal; Ctrl-A x quits' && echo "$out" | grep -q 'Ctrl-A x: stopping' &&
   echo "$out" | grep -q 'vmm-exit=0$' && echo "$out" | grep -q ' icanon' && echo "$out" | grep -q ' echo '; then
    echo "e2e: PASS console-pty — in a pty: raw mode, typed 'echo \$((6*7))' + Enter, read 42, Ctrl-A x: exit 0, terminal restored (icanon echo)"
else echo "e2e: FAIL console-pty — $(echo "$out" | grep -E 'vmm-exit|Ctrl-A|^42|kvmxx-vmm|icanon' | tr '\n' '|')"; fi
pty_run segv
if echo "$out" | grep -qx 42 && echo "$out" | grep -q 'vmm-exit=139$' && echo "$out" | grep -q ' icanon' && echo "$out" | grep -q ' echo '; then
    echo "e2e: PASS console-pty-crash — killed by SIGSEGV in raw mode: exit 139, terminal restored (icanon echo)"
else echo "e2e: FAIL console-pty-crash — $(echo "$out" | grep -E 'vmm-exit|Ctrl-A|^42|kvmxx-vmm|icanon' | tr '\n' '|')"; fi
rm -f con.in con.out

fi  # E2E_PARTS_ONLY
# The other parts, in order (bad_input.sh last: it checks nothing was left behind).
for part in $E2E_PARTS; do . "./$part"; done

# A sanitized VMM's reports went to files (log_path): all of them to the console,
# where tests/e2e/run counts them.
if [ -n "$E2E_SANITIZER_LOG" ]; then
    for f in "$E2E_SANITIZER_LOG".*; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done
    echo "e2e: sanitizer logs: $(ls "$E2E_SANITIZER_LOG".* 2>/dev/null | wc -l) file(s)"
fi
