// Guest loops for the x86_64 host benchmarks (hostkvm_bench, instr_count): real mode
// with CS based at the program and flat data segments ("unreal mode", set by
// kvmxx::x86::enter_unreal_mode), each doing one thing forever, so every KVM_RUN the
// host makes is one round trip of that thing. 0x0a000000 is outside every memory slot
// (every access exits as MMIO); port 0x500 is no device's (every OUT exits).
#define PROGRAM(name) .section .rodata.xbench_##name, "a"; .balign 16; .globl xbench_##name; xbench_##name:
#define END(name) .globl xbench_##name##_end; xbench_##name##_end:

#define MMIO 0x0a000000
#define PORT 0x500

    .code16

// A 4-byte store that exits: KVM_EXIT_MMIO, is_write.
PROGRAM(mmio_write)
    movl  $MMIO, %ebx
1:  movl  %eax, (%ebx)
    jmp   1b
END(mmio_write)

// A 4-byte load that exits; the host supplies the value.
PROGRAM(mmio_read)
    movl  $MMIO, %ebx
1:  movl  (%ebx), %eax
    jmp   1b
END(mmio_read)

// A 4-byte OUT that exits: KVM_EXIT_IO, direction out.
PROGRAM(pio_out)
    movw  $PORT, %dx
1:  outl  %eax, %dx
    jmp   1b
END(pio_out)

// A store to an ioeventfd address (the kernel signals the eventfd, no exit), then an
// OUT that exits so the host gets control back.
PROGRAM(ioeventfd)
    movl  $MMIO, %ebx
    movw  $PORT, %dx
1:  movl  %eax, 0x1000(%ebx)
    outl  %eax, %dx
    jmp   1b
END(ioeventfd)

    .section .note.GNU-stack, "", @progbits
