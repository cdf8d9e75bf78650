// Guest programs for the x86_64 vCPU state tests (tests/kvm/x86/state_test.cpp).
//
// Like guest.S, each program sits between guest_NAME and guest_NAME_end. Most
// start in one of the modes of kvmxx/x86/modes.hpp (real, 32-bit protected,
// 64-bit long mode); the comment says which. 0x0a000000 is the MMIO window the
// programs report through, port 0x500 the port.

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 16; .globl guest_##name; guest_##name:
#define LABEL(name) .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

#define REPORT 0x0a000000
#define PORT 0x500

// ---- real mode (enter_real_mode): report CS and a known value through the port ----------
    .code16
PROGRAM(real_report)
    movw  $PORT, %dx
    movw  %cs, %ax
    outw  %ax, %dx              // the selector enter_real_mode chose
    movw  $0x1616, %ax
    outw  %ax, %dx
    hlt
    jmp   .
END(real_report)

// ---- real mode with an IVT: interrupts and NMIs reach their handlers ---------------------
// The test points IVT vectors 2 (NMI) and 0x20 at the handlers below. The main loop
// enables interrupts and halts (no in-kernel irqchip: each HLT exits to userspace).
PROGRAM(ivt_wait)
    sti
1:  hlt
    jmp   1b
LABEL(ivt_nmi)
    movw  $PORT, %dx
    movw  $0x4e02, %ax          // "N", vector 2
    outw  %ax, %dx
    iret
LABEL(ivt_irq)
    movw  $PORT, %dx
    movw  $0x4920, %ax          // "I", vector 0x20
    outw  %ax, %dx
    iret
END(ivt_wait)

// ---- unreal mode (TestVm): the debug registers the host set ---------------------------------
PROGRAM(debugregs_report)
    movl  $REPORT, %ebx
    movl  %dr0, %eax
    movl  %eax, (%ebx)
    movl  %dr3, %eax
    movl  %eax, 4(%ebx)
    movl  %dr7, %eax
    movl  %eax, 8(%ebx)
    hlt
    jmp   .
END(debugregs_report)

// ---- unreal mode (TestVm): RDMSR of 0x174, 0x175, 0x176 ------------------------------------
PROGRAM(rdmsr_three)
    movl  $REPORT, %edi
    movl  $0x174, %ecx
    rdmsr
    movl  %eax, (%edi)
    incl  %ecx
    rdmsr
    movl  %eax, 4(%edi)
    incl  %ecx
    rdmsr
    movl  %eax, 8(%edi)
    hlt
    jmp   .
END(rdmsr_three)

// ---- 32-bit protected mode (enter_protected_mode) ------------------------------------------
    .code32
PROGRAM(pm32_report)
    movl  $REPORT, %ebx
    movl  $0x32323232, (%ebx)   // a 4-byte MMIO write of a known value
    movl  %cs, %eax
    movl  %eax, 4(%ebx)         // the code selector (0x08)
    movw  $PORT, %dx
    movl  $0x3232, %eax
    outl  %eax, %dx
    hlt
    jmp   .
END(pm32_report)

// 32-bit: report what KVM_SET_FPU put in XMM0 and MXCSR and the x87 control word, then
// leave 0xfeedface in XMM1 for KVM_GET_FPU.
PROGRAM(pm32_fpu)
    hlt                         // the test sets the FPU state here (state_test.cpp says why)
    movl  $REPORT, %ebx
    movd  %xmm0, %eax
    movl  %eax, (%ebx)          // XMM0 bits 0..31
    psrldq $4, %xmm0
    movd  %xmm0, %eax
    movl  %eax, 4(%ebx)         // XMM0 bits 32..63
    subl  $8, %esp
    stmxcsr (%esp)
    movl  (%esp), %eax
    movl  %eax, 8(%ebx)         // MXCSR
    fnstcw (%esp)
    movzwl (%esp), %eax
    movl  %eax, 12(%ebx)        // x87 control word
    movl  $0xfeedface, %eax
    movd  %eax, %xmm1
    hlt
    jmp   .
END(pm32_fpu)

// ---- 64-bit long mode (enter_long_mode) --------------------------------------------------
    .code64
PROGRAM(lm64_report)
    movl  $REPORT, %ebx
    movabsq $0x6464646464646464, %rax
    movq  %rax, (%rbx)          // an 8-byte MMIO write: only long mode has one
    movq  %cr3, %rax
    movq  %rax, 8(%rbx)         // the page tables the helper built
    movw  $PORT, %dx
    movl  $0x6464, %eax
    outl  %eax, %dx
    hlt
    jmp   .
END(lm64_report)

// 64-bit with CR4.OSXSAVE: XCR0 as XGETBV sees it, and XMM2 as KVM_SET_XSAVE left it.
PROGRAM(lm64_xsave)
    movl  $REPORT, %ebx
    xorl  %ecx, %ecx
    xgetbv
    movl  %eax, (%rbx)          // XCR0 bits 0..31
    movq  %xmm2, %rax
    movq  %rax, 8(%rbx)         // XMM2 bits 0..63
    hlt
    jmp   .
END(lm64_xsave)

    .section .note.GNU-stack, "", @progbits
