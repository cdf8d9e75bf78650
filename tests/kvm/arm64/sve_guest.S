// The SVE test's guest (tests/kvm/arm64/sve_test.cpp): EL1, MMU off, loaded
// like the programs of guest.S. In its own file because it needs the assembler's
// SVE instructions.
.arch armv8.2-a+sve

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 0x800; .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

// x2 = a pattern byte, x3 = rounds (both set by the host). Reports at 0x0a000000:
//   +0  the vector length in bytes (RDVL), once;
//   +8  the rounds left, on each round: an exit, where the host thread yields;
//   +16 0: every round found z0 and z31 still holding the pattern in every byte;
//   +24 the round at which a register had changed.
PROGRAM(sve_keep)
    movz  x1, #0x0a00, lsl #16
    mrs   x9, cpacr_el1
    orr   x9, x9, #(3 << 16)      // CPACR_EL1.ZEN: SVE at EL1 without a trap
    orr   x9, x9, #(3 << 20)      // CPACR_EL1.FPEN
    msr   cpacr_el1, x9
    isb
    mov   x9, #0x1ff
    msr   S3_0_C1_C2_0, x9        // ZCR_EL1.LEN: the longest; the vCPU's maximum caps it
    isb
    rdvl  x10, #1
    str   x10, [x1]
    ptrue p0.b
    dup   z0.b, w2
    dup   z31.b, w2
1:  str   x3, [x1, #8]
    dup   z30.b, w2               // the reference, rebuilt from a general register
    cmpne p1.b, p0/z, z0.b, z30.b
    b.any 2f
    cmpne p1.b, p0/z, z31.b, z30.b
    b.any 2f
    subs  x3, x3, #1
    b.ne  1b
    str   xzr, [x1, #16]
    b     .
2:  str   x3, [x1, #24]
    b     .
END(sve_keep)
