// smp.S — the psci-smp check: vCPU 0 counts the vCPUs with PSCI AFFINITY_INFO
// (an MPIDR with no vCPU is INVALID_PARAMETERS), starts every secondary with
// CPU_ON, sends each in turn SGI 1 through the GIC and waits for its SGI 2 back;
// each secondary answers and stops with CPU_OFF, which AFFINITY_INFO then sees.
// MPIDR of vCPU n: Aff0 = n (KVM's numbering for n < 16).
#include "payload.h"

#define MAX_CPUS 8

    payload_start
    bl find_gic
    adr x0, redist_copy         // for the secondaries
    str x23, [x0]
    dsb sy
    bl gic_dist_init
    mov x0, #0
    mov x1, #(1 << 2)           // SGI 2: the answers
    bl gic_cpu_init
    psci PSCI_VERSION
    mov x25, x0
    mov x1, #(PSCI_CPU_ON & 0xffff)
    movk x1, #(PSCI_CPU_ON >> 16), lsl #16
    psci PSCI_FEATURES
    tbz x0, #63, 1f
    FAIL "PSCI_FEATURES says CPU_ON is not implemented"
1:  mov x26, #1                 // the number of vCPUs
2:  cmp x26, #MAX_CPUS
    b.hs 3f
    mov x1, x26
    mov x2, #0
    psci PSCI_AFFINITY_INFO
    tbnz x0, #63, 3f            // no such vCPU
    cmp x0, #1                  // OFF: as the VMM made it
    b.eq 4f
    FAIL "a secondary vCPU was not off before CPU_ON"
4:  add x26, x26, #1
    b 2b
3:  cmp x26, #2
    b.hs 5f
    FAIL "only one vCPU: give the VMM --cpus 2 or more"
5:  print "kvmxx-payload: PSCI "
    lsr x0, x25, #16
    bl putdec
    print "."
    and x0, x25, #0xffff
    bl putdec
    print ", "
    mov x0, x26
    bl putdec
    print " vCPUs (AFFINITY_INFO), the secondaries OFF\n"
    mov x27, #1                 // CPU_ON each secondary, entry secondary, context id = its number
6:  mov x1, x27
    adr x2, secondary
    mov x3, x27
    psci PSCI_CPU_ON
    cbz x0, 7f
    FAIL "CPU_ON failed"
7:  add x27, x27, #1
    cmp x27, x26
    b.lo 6b
    set_deadline 10             // every secondary online
    mov x27, #1
8:  adr x0, online
    ldr x1, [x0, x27, lsl #3]
    cbnz x1, 9f
    past_deadline .Lnot_online
    b 8b
9:  add x27, x27, #1
    cmp x27, x26
    b.lo 8b
    msr daifclr, #2             // SGI 1 to each in turn, and its SGI 2 back before the next:
    mov x27, #1                 // a GICv3 SGI pending twice at one target is taken once
10: mov x0, #1
    lsl x0, x0, x27             // ICC_SGI1R_EL1: INTID 1 (bits 27:24), target list bit n (Aff0 = n)
    orr x0, x0, #(1 << 24)
    msr icc_sgi1r_el1, x0
    isb
    set_deadline 10
11: adr x0, answers
    ldr x1, [x0]
    cmp x1, x27
    b.hs 15f
    past_deadline .Lno_answer
    b 11b
15: add x27, x27, #1
    cmp x27, x26
    b.lo 10b
12: set_deadline 10             // each secondary OFF again
    mov x27, #1
13: mov x1, x27
    mov x2, #0
    psci PSCI_AFFINITY_INFO
    cmp x0, #1
    b.eq 14f
    past_deadline .Lstill_on
    b 13b
14: add x27, x27, #1
    cmp x27, x26
    b.lo 13b
    print "kvmxx-payload: CPU_ON started vCPUs 1.."
    sub x0, x26, #1
    bl putdec
    print "; one by one each took SGI 1 from vCPU 0 and sent SGI 2 back ("
    adr x0, answers
    ldr x0, [x0]
    bl putdec
    print " taken); each CPU_OFF again (AFFINITY_INFO)\n"
    b ok
.Lnot_online:
    FAIL "a secondary did not come online within 10 s of CPU_ON"
.Lno_answer:
    FAIL "a secondary did not answer SGI 1 with SGI 2 within 10 s"
.Lstill_on:
    FAIL "a secondary was not OFF within 10 s of its CPU_OFF"

// A secondary, from CPU_ON: x0 = its number. Its stack, vectors and GIC, then
// online; it waits for SGI 1, answers vCPU 0 with SGI 2, and turns itself off.
secondary:
    mov x21, x0
    adr x1, stacks
    add x2, x0, #1
    add x1, x1, x2, lsl #12
    mov sp, x1
    adr x1, vectors
    msr vbar_el1, x1
    isb
    ldr x23, redist_copy        // written by vCPU 0 before CPU_ON
    mov x0, x21
    mov x1, #(1 << 1)           // SGI 1
    bl gic_cpu_init
    adr x0, online
    mov x1, #1
    str x1, [x0, x21, lsl #3]
    dsb sy
    msr daifclr, #2
1:  adr x0, got_sgi1
    ldr x1, [x0, x21, lsl #3]
    cbnz x1, 2f
    wfi
    b 1b
2:  mov x0, #1                  // SGI 2 (bits 27:24) to vCPU 0 (target list bit 0)
    orr x0, x0, #(2 << 24)
    msr icc_sgi1r_el1, x0
    isb
    psci PSCI_CPU_OFF
    b .

// x0 = INTID; this vCPU's number from MPIDR_EL1.Aff0.
irq_handler:
    mrs x1, mpidr_el1
    and x1, x1, #0xff
    cmp x0, #1
    b.ne 1f
    adr x2, got_sgi1
    mov x3, #1
    str x3, [x2, x1, lsl #3]
    dsb sy
    ret
1:  cmp x0, #2                  // only vCPU 0 takes SGI 2, so only it writes answers
    b.ne 2f
    adr x2, answers
    ldr x3, [x2]
    add x3, x3, #1
    str x3, [x2]
    dsb sy
2:  ret

    .balign 8
online:     .fill MAX_CPUS, 8, 0
got_sgi1:   .fill MAX_CPUS, 8, 0
answers:    .quad 0
redist_copy: .quad 0

#include "payload_lib.S"
