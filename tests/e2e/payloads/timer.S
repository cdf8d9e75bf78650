// timer.S — the timer-irq check: the virtual timer (CNTV_*, KVM's, INTID 27 =
// PPI 11 of the DT's timer node) set 10 ms ahead fires, and the interrupt is
// taken through the GIC as an exception (VBAR_EL1 + 0x280), no earlier than
// its deadline.
#include "payload.h"

#define VTIMER_INTID 27

    payload_start
    bl find_gic
    bl gic_dist_init
    mov x0, #0
    mov x1, #(1 << VTIMER_INTID)
    bl gic_cpu_init
    mrs x25, cntfrq_el0
    mov x0, #100
    udiv x26, x25, x0           // 10 ms of ticks
    mrs x27, cntvct_el0
    msr cntv_tval_el0, x26
    mov x0, #1                  // ENABLE, not IMASK
    msr cntv_ctl_el0, x0
    isb
    set_deadline 10
    msr daifclr, #2
1:  adr x0, fired_at
    ldr x1, [x0]
    cbnz x1, 2f
    past_deadline .Lnever
    b 1b
2:  msr daifset, #2
    sub x28, x1, x27            // ticks from arming to the interrupt
    cmp x28, x26
    b.hs 3f
    FAIL "the timer interrupt came before its deadline"
3:  print "kvmxx-payload: virtual timer: INTID "
    adr x0, intid
    ldr x0, [x0]
    bl putdec
    print " taken "
    mov x0, x28
    bl putdec
    print " ticks after arming (deadline "
    mov x0, x26
    bl putdec
    print " ticks, CNTFRQ "
    mov x0, x25
    bl putdec
    print " Hz)\n"
    b ok
.Lnever:
    FAIL "no virtual-timer interrupt within 10 s"

// x0 = INTID: the timer's is masked (its level drops) and its time noted.
irq_handler:
    cmp x0, #VTIMER_INTID
    b.ne 1f
    mov x1, #3                  // ENABLE | IMASK
    msr cntv_ctl_el0, x1
    isb
    adr x2, intid
    str x0, [x2]
    mrs x1, cntvct_el0
    adr x2, fired_at
    str x1, [x2]
    dsb sy
1:  ret

    .balign 8
fired_at:   .quad 0
intid:      .quad 0

#include "payload_lib.S"
