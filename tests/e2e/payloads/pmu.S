// pmu.S — the pmu check: the guest has a PMUv3 (ID_AA64DFR0_EL1.PMUVer) and an
// arm,armv8-pmuv3 node in its device tree, and its cycle counter (PMCCNTR_EL0,
// enabled through PMCR_EL0 and PMCNTENSET_EL0) counts across a loop.
#include "payload.h"

#define LOOPS 100000

    payload_start
    mrs x0, id_aa64dfr0_el1
    ubfx x25, x0, #8, #4        // PMUVer: 0 none, 0xf IMPLEMENTATION DEFINED
    cbz x25, .Lnone
    cmp x25, #0xf
    b.eq .Lnone
    mov x0, x19
    adr x1, compat_pmu
    bl fdt_find
    cbnz x1, 1f
    FAIL "a PMU but no arm,armv8-pmuv3 node in the device tree"
1:  mrs x0, pmcr_el0
    ubfx x26, x0, #11, #5       // PMCR_EL0.N: event counters
    mov x0, #((1 << 6) | (1 << 2) | 1)  // LC (64-bit cycle counter), C (reset it), E
    msr pmcr_el0, x0
    msr pmccfiltr_el0, xzr      // count at EL1 and EL0
    mov x0, #(1 << 31)          // the cycle counter
    msr pmcntenset_el0, x0
    isb
    mrs x27, pmccntr_el0
    mov64 x0, LOOPS
2:  subs x0, x0, #1
    b.ne 2b
    isb
    mrs x28, pmccntr_el0
    sub x28, x28, x27
    cbnz x28, 3f
    FAIL "the cycle counter did not move"
3:  print "kvmxx-payload: PMUv3 (PMUVer "
    mov x0, x25
    bl putdec
    print ", "
    mov x0, x26
    bl putdec
    print " event counters, arm,armv8-pmuv3 in the DT): "
    mov x0, x28
    bl putdec
    print " cycles counted over a 100000-iteration loop\n"
    b ok
.Lnone:
    FAIL "no PMUv3 (ID_AA64DFR0_EL1.PMUVer is 0 or 0xf): run the VMM with --pmu"

irq_handler:
    ret

compat_pmu: .asciz "arm,armv8-pmuv3"
    .balign 4

#include "payload_lib.S"
