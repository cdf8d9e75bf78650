#!/bin/sh
# Runs inside the emulated host: every aarch64 test binary that was copied in.
# Exit status 0 only when each binary passed.
rc=0
for t in kvmxx_unit_tests kvmxx_kvm_tests; do
    [ -x "./$t" ] || { echo "suite: $t missing"; rc=1; continue; }
    "./$t" || rc=1
done
exit $rc
