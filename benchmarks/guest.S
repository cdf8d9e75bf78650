// Guest loops for the benchmarks (aarch64, EL1, MMU off): each does one thing
// forever, so every KVM_RUN the host makes is one round trip of that thing.
// x1 = 0x0a000000, the MMIO window (no memory slot: every access exits).
#define PROGRAM(name) .section .rodata.bench_##name, "a"; .balign 0x800; .globl bench_##name; bench_##name:
#define END(name) .globl bench_##name##_end; bench_##name##_end:

// A store that exits: guest store → KVM_EXIT_MMIO → run() again.
PROGRAM(mmio_write)
    movz  x1, #0x0a00, lsl #16
1:  str   w2, [x1]
    b     1b
END(mmio_write)

// A load that exits; the host supplies the value, the guest's register gets it.
PROGRAM(mmio_read)
    movz  x1, #0x0a00, lsl #16
1:  ldr   w2, [x1]
    b     1b
END(mmio_read)

// A store to an ioeventfd address (signals an eventfd in the kernel, no exit),
// then a store that exits so the host gets control back.
PROGRAM(ioeventfd)
    movz  x1, #0x0a00, lsl #16
1:  str   w2, [x1, #0x1000]
    str   w2, [x1]
    b     1b
END(ioeventfd)
