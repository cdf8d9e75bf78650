// Guest program for the device → guest test (aarch64, EL1, MMU off), in the
// style of tests/kvm/arm64/guest.S.
//
// edu_irq: enables the GIC for INTID 38 (SPI 6, level), reports "ready" at
// report+0, waits in WFI. Its IRQ handler is the guest's device driver:
//   read the INTID (ICC_IAR1_EL1) and report it at +8;
//   read edu's interrupt status from the BAR (x5 = the BAR's guest address, a
//   memory slot backed by the VFIO mmap: no exit) and write it back to edu's
//   acknowledge register, which lowers the device's INTx line;
//   EOI (ICC_EOIR1_EL1), which makes KVM signal the resample eventfd, which
//   VFIO takes as "unmask INTx";
//   report the status it acknowledged at +16.
// A synchronous exception reports ESR at +0x100.

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 0x800; .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

PROGRAM(edu_irq)
    movz  x1, #0x0a00, lsl #16    // report window
    adr   x0, vectors
    msr   vbar_el1, x0
    isb
    mov   x0, #1
    msr   S3_0_C12_C12_5, x0      // ICC_SRE_EL1.SRE
    isb
    mov   x0, #0xff
    msr   S3_0_C4_C6_0, x0        // ICC_PMR_EL1
    mov   x0, #1
    msr   S3_0_C12_C12_7, x0      // ICC_IGRPEN1_EL1
    isb
    movz  x2, #0x0800, lsl #16    // distributor
    mov   w0, #0x12
    str   w0, [x2]                // GICD_CTLR: ARE | EnableGrp1
    mov   w0, #0x40
    str   w0, [x2, #0x84]         // GICD_IGROUPR1: INTID 38 in group 1
    // KVM's VGIC resets SPIs to edge-triggered. INTx is a level interrupt, and only a
    // level SPI's EOI makes KVM signal the resample eventfd (= VFIO's unmask): without
    // this line the first interrupt arrives and INTx then stays masked for good.
    str   wzr, [x2, #0xc08]       // GICD_ICFGR2: INTIDs 32..47 level
    str   w0, [x2, #0x104]        // GICD_ISENABLER1: enable INTID 38
    mov   x0, #1
    str   x0, [x1]                // ready
    msr   daifclr, #2
1:  wfi
    b     1b

    .balign 0x800
vectors:
    .skip 0x200
    mrs   x3, esr_el1             // 0x200: synchronous
    str   x3, [x1, #0x100]
    b     .
    .balign 0x80
    mrs   x3, S3_0_C12_C12_0      // 0x280: IRQ. ICC_IAR1_EL1
    str   x3, [x1, #8]
    ldr   w4, [x5, #0x24]         // edu interrupt status
    str   w4, [x5, #0x64]         // edu interrupt acknowledge
    dsb   sy
    msr   S3_0_C12_C12_1, x3      // ICC_EOIR1_EL1
    isb
    str   x4, [x1, #16]
    eret
END(edu_irq)
