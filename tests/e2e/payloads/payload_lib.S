// payload_lib.S — the routines every payload shares (see payload.h), included
// at the end of each so that the payload's own _start is its first byte.

// putc(w0): one character to the PL011 (UARTDR at +0, UARTFR.TXFF bit 5 at +0x18).
putc:
1:  ldr w1, [x20, #0x18]
    tbnz w1, #5, 1b
    str w0, [x20]
    ret

// puts(x0): a NUL-terminated string; "\n" goes out as "\r\n".
puts:
    stp x29, x30, [sp, #-16]!
    mov x3, x0
1:  ldrb w0, [x3], #1
    cbz w0, 2f
    cmp w0, #'\n'
    b.ne 3f
    mov w0, #'\r'
    bl putc
    mov w0, #'\n'
3:  bl putc
    b 1b
2:  ldp x29, x30, [sp], #16
    ret

// puthex(x0): 0x and the hex digits, no leading zeros (clobbers x0..x6).
puthex:
    stp x29, x30, [sp, #-16]!
    mov x3, x0
    mov w0, #'0'
    bl putc
    mov w0, #'x'
    bl putc
    mov x4, #60
    mov x5, #0
1:  lsr x0, x3, x4
    and x0, x0, #0xf
    cbnz x0, 2f
    cbnz x5, 2f
    cbz x4, 2f
    b 3f
2:  mov x5, #1
    add w0, w0, #'0'
    cmp w0, #'9'
    b.le 4f
    add w0, w0, #('a' - '0' - 10)
4:  bl putc
3:  subs x4, x4, #4
    b.ge 1b
    ldp x29, x30, [sp], #16
    ret

// putdec(x0): decimal (clobbers x0..x8).
putdec:
    stp x29, x30, [sp, #-48]!
    mov x3, x0
    add x4, sp, #48
    mov x6, x4
    mov x5, #10
1:  udiv x7, x3, x5
    msub x8, x7, x5, x3
    add w8, w8, #'0'
    strb w8, [x6, #-1]!
    mov x3, x7
    cbnz x3, 1b
2:  ldrb w0, [x6], #1
    bl putc
    cmp x6, x4
    b.lo 2b
    ldp x29, x30, [sp], #48
    ret

// be32 wD, [xA, #off]: a big-endian word of the DTB.
.macro be32 wd, xa, off
    ldr \wd, [\xa, #\off]
    rev \wd, \wd
.endm

// fdt_find(x0 = DTB, x1 = a compatible string): x1 = 1 if a node's first
// compatible string is it, else 0; x0 and x2 = the first and second
// addresses of that node's "reg" (2 address cells, 2 size cells; 0 if absent).
// Not a DTB (no magic 0xd00dfeed), an unknown token or the end: not found.
// Clobbers x0..x16.
fdt_find:
    mov x16, x30                // .Lstreq is called with bl
    mov x9, x1                  // the wanted string
    be32 w3, x0, 0
    mov64 x4, 0xd00dfeed
    cmp x3, x4
    b.ne .Lnotfound
    be32 w5, x0, 8              // off_dt_struct
    add x5, x0, x5              // the cursor
    be32 w6, x0, 12             // off_dt_strings
    add x6, x0, x6
    mov x7, #0                  // this node matches
    mov x8, #0                  // this node's first reg address
    mov x10, #0                 // and its second
.Ltoken:
    be32 w3, x5, 0
    add x5, x5, #4
    cmp w3, #1                  // FDT_BEGIN_NODE: the name, NUL-terminated, padded to 4
    b.ne 2f
    cbnz x7, .Lfound            // a child: the properties of the node before it are all read
    mov x7, #0
    mov x8, #0
    mov x10, #0
1:  ldrb w3, [x5], #1
    cbnz w3, 1b
    add x5, x5, #3
    and x5, x5, #~3
    b .Ltoken
2:  cmp w3, #2                  // FDT_END_NODE: the node just closed is it?
    b.ne 3f
    cbz x7, .Ltoken
.Lfound:
    mov x0, x8
    mov x2, x10
    mov x1, #1
    ret x16
3:  cmp w3, #4                  // FDT_NOP
    b.eq .Ltoken
    cmp w3, #3                  // FDT_PROP: len, nameoff, value padded to 4
    b.ne .Lnotfound
    be32 w11, x5, 0
    be32 w12, x5, 4
    add x12, x6, x12            // its name
    add x13, x5, #8             // its value
    add x5, x13, x11
    add x5, x5, #3
    and x5, x5, #~3
    adr x14, name_compatible
    bl .Lstreq                  // x15 = 1 when the strings at x12 and x14 are equal
    cbz x15, 4f
    mov x14, x9                 // compatible: is its first string the wanted one?
1:  ldrb w15, [x14], #1
    ldrb w3, [x13], #1
    cmp w3, w15
    b.ne .Ltoken
    cbnz w15, 1b
5:  mov x7, #1
    b .Ltoken
4:  adr x14, name_reg
    bl .Lstreq
    cbz x15, .Ltoken
    cmp x11, #16                // reg: the first address, and the second if there is one
    b.lo .Ltoken
    be32 w3, x13, 0
    be32 w4, x13, 4
    orr x8, x4, x3, lsl #32
    cmp x11, #32
    b.lo .Ltoken
    be32 w3, x13, 16
    be32 w4, x13, 20
    orr x10, x4, x3, lsl #32
    b .Ltoken
.Lnotfound:
    mov x0, #0
    mov x1, #0
    mov x2, #0
    ret x16
// x15 = strings at x12 and x14 equal (x3, x4, x12, x14 advance; x30 kept by the caller's bl).
.Lstreq:
    mov x3, x12
1:  ldrb w4, [x3], #1
    ldrb w15, [x14], #1
    cmp w4, w15
    b.ne 2f
    cbnz w4, 1b
    mov x15, #1
    ret
2:  mov x15, #0
    ret

// gic_cpu_init(x0 = this vCPU's number, x1 = the private interrupts to enable):
// its redistributor (x23 + n * 128 KiB; SGI frame at +64 KiB) is woken
// (GICR_WAKER.ProcessorSleep cleared: KVM's ignores it, a real GIC does not),
// puts them in group 1 and enables them; its CPU interface (system registers)
// takes every priority.
gic_cpu_init:
    add x2, x23, x0, lsl #17
    ldr w3, [x2, #0x14]         // GICR_WAKER
    bic w3, w3, #(1 << 1)       // ProcessorSleep
    str w3, [x2, #0x14]
1:  ldr w3, [x2, #0x14]
    tbnz w3, #2, 1b             // ChildrenAsleep
    add x2, x2, #0x10000
    mov w3, #-1
    str w3, [x2, #0x80]         // GICR_IGROUPR0
    str w1, [x2, #0x100]        // GICR_ISENABLER0
    mrs x3, icc_sre_el1         // the system-register interface (RAO under KVM)
    orr x3, x3, #1
    msr icc_sre_el1, x3
    isb
    mov x3, #0xff
    msr icc_pmr_el1, x3
    msr icc_bpr1_el1, xzr
    mov x3, #1
    msr icc_igrpen1_el1, x3
    isb
    ret

// The distributor: affinity routing and group 1 on (GICD_CTLR = ARE | EnableGrp1).
gic_dist_init:
    mov w3, #0x12
    str w3, [x22]
    ret

// The GIC from the DT into x22 (distributor) and x23 (redistributors).
find_gic:
    stp x29, x30, [sp, #-16]!
    mov x0, x19
    adr x1, compat_gic
    bl fdt_find
    cbz x1, 1f
    mov x22, x0
    mov x23, x2
    ldp x29, x30, [sp], #16
    ret
1:  FAIL "no arm,gic-v3 node in the device tree"

// An interrupt at EL1h: IAR, the payload's irq_handler(x0 = INTID), EOI.
irq_entry:
    sub sp, sp, #96
    stp x0, x1, [sp]
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x30, [sp, #64]
    mrs x0, icc_iar1_el1
    str x0, [sp, #80]
    cmp x0, #1020               // 1020..1023: special, nothing to acknowledge
    b.hs 1f
    bl irq_handler
    ldr x0, [sp, #80]
    msr icc_eoir1_el1, x0
    isb
1:  ldp x8, x30, [sp, #64]
    ldp x6, x7, [sp, #48]
    ldp x4, x5, [sp, #32]
    ldp x2, x3, [sp, #16]
    ldp x0, x1, [sp]
    add sp, sp, #96
    eret

unexpected:
    cbz x20, system_off         // before the UART is known: nothing to say it with
    print "kvmxx-payload: status FAIL: unexpected exception, ESR_EL1 "
    mrs x0, esr_el1
    bl puthex
    print " at ELR_EL1 "
    mrs x0, elr_el1
    bl puthex
    print "\n"
    b system_off

// fail(x0 = why): the status line, then power off.
fail:
    mov x28, x0
    print "kvmxx-payload: status FAIL: "
    mov x0, x28
    bl puts
    print "\n"
    b system_off

ok:
    print "kvmxx-payload: status ok\n"
system_off:
    psci PSCI_SYSTEM_OFF
    b .

// The vectors: IRQ at EL1h goes to irq_entry, anything else is unexpected.
.macro vector target
    .balign 128
    b \target
.endm
    .balign 2048
vectors:
    vector unexpected           // current EL, SP0: sync, IRQ, FIQ, SError
    vector unexpected
    vector unexpected
    vector unexpected
    vector unexpected           // current EL, SPx: sync
    vector irq_entry            //                  IRQ
    vector unexpected
    vector unexpected
    .rept 8
    vector unexpected           // lower EL, AArch64 and AArch32
    .endr

compat_pl011:     .asciz "arm,pl011"
compat_gic:       .asciz "arm,gic-v3"
name_compatible:  .asciz "compatible"
name_reg:         .asciz "reg"
    .balign 16
stacks:                         // 4 KiB per vCPU, up to 8; vCPU n's top is stacks + (n + 1) * 4 KiB
    .space 8 * 4096
