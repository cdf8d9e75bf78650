// Guest programs for the real-kernel KVM tests (x86_64 host, guest in real mode).
//
// Each program sits between guest_NAME and guest_NAME_end. The test copies it to
// guest RAM and starts the vCPU in real mode with CS based at the program
// (IP = 0, so nothing needs relocating) and the data segments flat from 0 with a
// 4 GiB limit ("unreal mode", set through KVM_SET_SREGS), so the 32-bit
// addresses below reach the MMIO windows above 1 MiB. Anything outside a memory
// slot is MMIO and reaches the host as an exit: 0x0a000000 is the window the
// programs use to talk to the test ("report"), port 0x500 the port they use.
//
// The shared programs (named like the arm64 ones) take their inputs in the
// registers that stand for arm64's: eax = x2, ecx = x3, edx = x4, esi = x5, edi = x7.

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 16; .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

#define REPORT 0x0a000000
#define PORT 0x500

    .code16

// ---- MMIO writes and reads of each width real mode has ---------------------------
PROGRAM(mmio_rw)
    movl  $REPORT, %ebx
    movl  %eax, (%ebx)          // 4-byte write of eax (set by the host)
    movl  8(%ebx), %ecx         // 4-byte read: the host supplies the value
    movl  %ecx, 16(%ebx)        // echo it back
    movzbw 24(%ebx), %dx        // 1-byte read, zero-extended
    movw  %dx, 32(%ebx)         // echo as a 2-byte write
    jmp   .
END(mmio_rw)

// ---- port I/O of each width, then HLT -----------------------------------------------
PROGRAM(pio)
    movw  $PORT, %dx
    outb  %al, %dx              // 1-byte out of al (eax set by the host)
    outw  %ax, %dx              // 2-byte out
    outl  %eax, %dx             // 4-byte out
    inl   %dx, %eax             // 4-byte in: the host supplies the value
    outl  %eax, %dx             // echo it
    inb   %dx, %al              // 1-byte in into al: the upper bytes of eax stay
    outl  %eax, %dx             // echo all four bytes
    hlt                         // no in-kernel irqchip: HLT exits to userspace
    jmp   .
END(pio)

// ---- registers: report the ones the host set ----------------------------------------
// esi, edi, ebp to the report window; then eax + 1 stays in eax for the host to read.
PROGRAM(regs_echo)
    movl  $REPORT, %ebx
    movl  %esi, (%ebx)
    movl  %edi, 4(%ebx)
    movl  %ebp, 8(%ebx)
    incl  %eax
    hlt
    jmp   .
END(regs_echo)

// ---- CPUID leaf 0 and RDMSR as the guest sees them ------------------------------------
PROGRAM(cpuid_msr)
    movl  $REPORT, %edi
    xorl  %eax, %eax
    cpuid                       // leaf 0: vendor in ebx, edx, ecx
    movl  %ebx, (%edi)
    movl  %edx, 4(%edi)
    movl  %ecx, 8(%edi)
    movl  $0x174, %ecx          // IA32_SYSENTER_CS
    rdmsr
    movl  %eax, 16(%edi)
    jmp   .
END(cpuid_msr)

// ---- an exception with no IDT to deliver it: a triple fault -----------------------------
PROGRAM(triple_fault)
    int3                        // the host set an IDT limit of 0
    jmp   .
END(triple_fault)

// ---- HLT, then report (KVM_CAP_X86_DISABLE_EXITS decides who sees the HLT) ---------------
PROGRAM(hlt_report)
    movl  $REPORT, %ebx
    hlt
    movl  %eax, (%ebx)
    jmp   .
END(hlt_report)

// ---- memory slots ---------------------------------------------------------------------
// esi = a read-only slot: the write exits, the read sees memory.
PROGRAM(ro_slot)
    movl  $REPORT, %ebx
    movl  %eax, (%esi)
    movl  (%esi), %ecx
    movl  %ecx, (%ebx)
    jmp   .
END(ro_slot)

// Copy one word from the slot at esi to the slot at edi, then report it.
PROGRAM(copy_slots)
    movl  $REPORT, %ebx
    movl  (%esi), %ecx
    movl  %ecx, (%edi)
    movl  %ecx, (%ebx)
    jmp   .
END(copy_slots)

// Write pages 1, 5 and 9 of the slot at esi, then report.
PROGRAM(dirty_pages)
    movl  $REPORT, %ebx
    movl  %eax, 0x1000(%esi)
    movl  %eax, 0x5000(%esi)
    movl  %eax, 0x9000(%esi)
    movl  %eax, (%ebx)
    jmp   .
END(dirty_pages)

// Write one word to each of ecx consecutive pages from esi, then report eax.
PROGRAM(dirty_many)
    movl  $REPORT, %ebx
1:  movl  %eax, (%esi)
    addl  $0x1000, %esi
    decl  %ecx
    jnz   1b
    movl  %eax, (%ebx)
    jmp   .
END(dirty_many)

// Read esi's address (a slot that may have been removed), report what came back.
PROGRAM(load_report)
    movl  $REPORT, %ebx
    movl  (%esi), %ecx
    movl  %ecx, (%ebx)
    jmp   .
END(load_report)

// ---- ioeventfd ----------------------------------------------------------------------------
// +0x1000: plain ioeventfd; +0x2000: datamatch 2 (ecx = 1 misses, edx = 2 matches).
PROGRAM(ioevent)
    movl  $REPORT, %ebx
    movl  %eax, 0x1000(%ebx)
    movl  %ecx, 0x2000(%ebx)
    movl  %edx, 0x2000(%ebx)
    movl  %eax, (%ebx)
    jmp   .
END(ioevent)

// ---- one byte from the port in dx (set by the host), reported on PORT ----------------
PROGRAM(port_read)
    xorl  %eax, %eax
    inb   %dx, %al
    movw  $PORT, %dx
    outl  %eax, %dx
    hlt
END(port_read)

// ---- spin until kicked ------------------------------------------------------------------
PROGRAM(spin)
    jmp   .
END(spin)

    .section .note.GNU-stack, "", @progbits
