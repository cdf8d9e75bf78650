// Guest programs for the real-kernel KVM tests (aarch64, EL1, MMU off).
//
// Each program sits between guest_NAME and guest_NAME_end; the test copies it
// to guest RAM at 0x40000000 and starts the vCPU there. The MMU is off, so
// every address is guest-physical. Anything outside a memory slot is MMIO and
// reaches the host as an exit: 0x0a000000 is the window the programs use to
// talk to the test ("report"). Position-independent only (adr, no literals
// that hold absolute addresses).

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 0x800; .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

// x1 = 0x0a000000: the report window.
.macro report_base
    movz x1, #0x0a00, lsl #16
.endm

// ---- MMIO writes and reads of each width -------------------------------------
PROGRAM(mmio_rw)
    report_base
    str   w2, [x1]            // 4-byte write of x2 (set by the host)
    ldr   x3, [x1, #8]        // 8-byte read: the host supplies the value
    str   x3, [x1, #16]       // echo it back as an 8-byte write
    ldrb  w4, [x1, #24]       // 1-byte read
    strh  w4, [x1, #32]       // echo as a 2-byte write
    b     .
END(mmio_rw)

// ---- PSCI (SMCCC through HVC) -------------------------------------------------
PROGRAM(psci_off)
    movz  w0, #0x0008
    movk  w0, #0x8400, lsl #16    // PSCI SYSTEM_OFF
    hvc   #0
    b     .
END(psci_off)

PROGRAM(psci_reset)
    movz  w0, #0x0009
    movk  w0, #0x8400, lsl #16    // PSCI SYSTEM_RESET
    hvc   #0
    b     .
END(psci_reset)

// vCPU 0 starts vCPU 1 at `secondary` with context id 0x77, reports PSCI's answer.
PROGRAM(cpu_on)
    report_base
    mov   x9, x1
    movz  x0, #0x0003
    movk  x0, #0xc400, lsl #16    // PSCI CPU_ON (SMC64)
    mov   x1, #1                  // target MPIDR: Aff0 = 1
    adr   x2, secondary           // entry point (guest-physical, MMU off)
    mov   x3, #0x77               // context id, arrives in the secondary's x0
    hvc   #0
    str   x0, [x9]                // report the return code (0 = success)
    b     .
secondary:
    movz  x9, #0x0a00, lsl #16
    str   x0, [x9, #8]            // report the context id
    b     .
END(cpu_on)

// ---- memory slots ---------------------------------------------------------------
// x5 = a read-only slot: the write exits, the read sees memory.
PROGRAM(ro_slot)
    report_base
    str   w2, [x5]
    ldr   w6, [x5]
    str   w6, [x1]
    b     .
END(ro_slot)

// Copy one word from the slot at x5 to the slot at x7, then report it.
PROGRAM(copy_slots)
    report_base
    ldr   x6, [x5]
    str   x6, [x7]
    str   x6, [x1]
    b     .
END(copy_slots)

// Write pages 1, 5 and 9 of the slot at x5, then report.
PROGRAM(dirty_pages)
    report_base
    add   x6, x5, #0x1000
    str   x2, [x6]
    add   x6, x5, #0x5000
    str   x2, [x6]
    add   x6, x5, #0x9000
    str   x2, [x6]
    str   x2, [x1]
    b     .
END(dirty_pages)

// Write x2 to the first word of each of x3 pages from x5 on, then report x2.
PROGRAM(dirty_many)
    report_base
1:  str   x2, [x5]
    add   x5, x5, #0x1000
    subs  x3, x3, #1
    b.ne  1b
    str   x2, [x1]
    b     .
END(dirty_many)

// Read x5's address (a slot that may have been removed), report what came back.
PROGRAM(load_report)
    report_base
    ldr   x6, [x5]
    str   x6, [x1]
    b     .
END(load_report)

// ---- ioeventfd --------------------------------------------------------------------
// +0x1000: plain ioeventfd; +0x2000: datamatch 2 (x3 = 1 misses, x4 = 2 matches).
PROGRAM(ioevent)
    report_base
    str   w2, [x1, #0x1000]
    str   w3, [x1, #0x2000]
    str   w4, [x1, #0x2000]
    str   w2, [x1]
    b     .
END(ioevent)

// ---- spin until kicked ----------------------------------------------------------
PROGRAM(spin)
    b     .
END(spin)

// ---- GICv3 interrupt handler ------------------------------------------------------
// Enables the GIC for INTID 37 (SPI 5, edge) and 38 (SPI 6, level), reports
// "ready" at +0, then waits in WFI. The IRQ handler reports the INTID at +8,
// EOIs it, and reports again at +16. A synchronous exception reports ESR at +0x100.
PROGRAM(gic_irq)
    report_base
    adr   x0, vectors
    msr   vbar_el1, x0
    isb
    mov   x0, #1
    msr   S3_0_C12_C12_5, x0      // ICC_SRE_EL1.SRE: system-register CPU interface
    isb
    mov   x0, #0xff
    msr   S3_0_C4_C6_0, x0        // ICC_PMR_EL1: let every priority through
    mov   x0, #1
    msr   S3_0_C12_C12_7, x0      // ICC_IGRPEN1_EL1: enable group 1
    isb
    movz  x2, #0x0800, lsl #16    // distributor base
    mov   w0, #0x12
    str   w0, [x2]                // GICD_CTLR: ARE | EnableGrp1
    mov   w0, #0x60               // bits 5, 6 of the INTID 32..63 bank
    str   w0, [x2, #0x84]         // GICD_IGROUPR1: group 1
    mov   w0, #0x800
    str   w0, [x2, #0xc08]        // GICD_ICFGR2: INTID 37 edge (bit 11); 38 level
    mov   w0, #0x60
    str   w0, [x2, #0x104]        // GICD_ISENABLER1: enable 37 and 38
    mov   x0, #1
    str   x0, [x1]                // ready
    msr   daifclr, #2             // unmask IRQs
1:  wfi
    b     1b

    .balign 0x800
vectors:
    .skip 0x200
    // 0x200: synchronous, current EL with SP_ELx
    mrs   x3, esr_el1
    str   x3, [x1, #0x100]
    b     .
    .balign 0x80
    // 0x280: IRQ, current EL with SP_ELx
    mrs   x3, S3_0_C12_C12_0      // ICC_IAR1_EL1: acknowledge, read the INTID
    str   x3, [x1, #8]
    msr   S3_0_C12_C12_1, x3      // ICC_EOIR1_EL1: end of interrupt
    isb
    str   x3, [x1, #16]
    eret
END(gic_irq)

// ---- GICv3 set up by a list of MMIO writes ------------------------------------------
// Like gic_irq, but the distributor, redistributor and ITS writes come from the host:
// x6 = a list of {address, value} pairs in guest memory, ended by address 0; bit 0 of
// an address asks for a 32-bit write (GICD_CTLR, GICR_CTLR, GITS_CTLR, the enable
// bits), else the write is 64-bit (GICR_PROPBASER, GITS_BASER<n>, GITS_CWRITER...).
// The writes reach the in-kernel VGIC and ITS, which is how the ITS's command queue
// (prepared in guest memory by the host) gets processed. Then "ready" at +0, WFI;
// the IRQ handler reports the INTID at +8, EOIs it, reports again at +16.
PROGRAM(gic_pokes)
    report_base
    adr   x0, poke_vectors
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
1:  ldp   x7, x8, [x6], #16
    cbz   x7, 3f
    tbnz  x7, #0, 2f
    str   x8, [x7]                // 64-bit register
    dsb   sy
    b     1b
2:  bic   x7, x7, #1
    str   w8, [x7]                // 32-bit register
    dsb   sy
    b     1b
3:  mov   x0, #1
    str   x0, [x1]                // ready
    msr   daifclr, #2
4:  wfi
    b     4b

    .balign 0x800
poke_vectors:
    .skip 0x200
    mrs   x3, esr_el1             // 0x200: synchronous
    str   x3, [x1, #0x100]
    b     .
    .balign 0x80
    mrs   x3, S3_0_C12_C12_0      // 0x280: IRQ. ICC_IAR1_EL1
    str   x3, [x1, #8]
    msr   S3_0_C12_C12_1, x3      // ICC_EOIR1_EL1
    isb
    str   x3, [x1, #16]
    eret
END(gic_pokes)
