// Guest programs for the x86_64 interrupt tests (tests/kvm/x86/irqchip_test.cpp).
//
// Real mode, as in guest.S, but the test runs this program below 1 MiB (CS selector =
// its address / 16), because a real-mode interrupt goes through the interrupt vector
// table at address 0 and loads CS:IP from it: the handlers must be reachable by a
// segment:offset pair, and IRET must come back to a CS that matches its base. The
// data segments are flat from 0 with a 4 GiB limit ("unreal mode"), so the program
// reaches the LAPIC at 0xfee00000 and the MMIO windows.
//
// irq_wait takes its inputs in registers:
//   esi  bit 0: program both 8259 PICs (vectors 0x20-0x27 master, 0x28-0x2f slave),
//               cl = master mask (OCW1), ch = slave mask
//        bit 1: software-enable the local APIC (spurious-interrupt vector register)
//   edi  0: nothing; 1: each time before it halts, ring a doorbell with a 2-byte
//        write to port 0x510; 2: ... with a 4-byte MMIO write to 0x0a001000
// It points all 256 IVT entries at per-vector stubs, writes READY to port 0x500, then
// loops `cli; [doorbell]; sti; hlt`. The handler of vector V writes V to port 0x501,
// acknowledges the interrupt (vectors 0x20-0x2f: non-specific EOI to the PIC(s);
// others: LAPIC EOI), writes V to port 0x502 and returns with IRET.

#define PROGRAM(name) .section .rodata.guest_##name, "a"; .balign 16; .globl guest_##name; guest_##name:
#define END(name) .globl guest_##name##_end; guest_##name##_end:

#define PORT_READY 0x500
#define PORT_IRQ 0x501
#define PORT_EOI 0x502
#define READY 0x52454459            /* "READY" as far as it fits */
#define DOORBELL_PORT 0x510
#define DOORBELL_MMIO 0x0a001000
#define LAPIC_EOI 0xfee000b0
#define LAPIC_SVR 0xfee000f0

    .code16

PROGRAM(irq_wait)
    // The IVT: entry V = CS:(stub 0 + 8 V).
    movw  $(irq_stubs - guest_irq_wait), %ax
    movw  %cs, %dx
    xorl  %ebx, %ebx
1:  movw  %ax, (%ebx)
    movw  %dx, 2(%ebx)
    addw  $8, %ax
    addl  $4, %ebx
    cmpl  $0x400, %ebx
    jne   1b

    testl $1, %esi
    jz    2f
    movb  $0x11, %al            // ICW1: edge triggered, cascade, ICW4 follows
    outb  %al, $0x20
    outb  %al, $0xa0
    movb  $0x20, %al            // ICW2: master vectors 0x20-0x27
    outb  %al, $0x21
    movb  $0x28, %al            // slave vectors 0x28-0x2f
    outb  %al, $0xa1
    movb  $0x04, %al            // ICW3: the slave sits on master IRQ 2
    outb  %al, $0x21
    movb  $0x02, %al            // ... and knows it is number 2
    outb  %al, $0xa1
    movb  $0x01, %al            // ICW4: 8086 mode, normal EOI
    outb  %al, $0x21
    outb  %al, $0xa1
    movb  %cl, %al              // OCW1: the masks the host chose
    outb  %al, $0x21
    movb  %ch, %al
    outb  %al, $0xa1
2:
    testl $2, %esi
    jz    3f
    movl  $LAPIC_SVR, %ebx
    movl  $0x1ff, (%ebx)        // APIC software enable, spurious vector 0xff
3:
    movw  $PORT_READY, %dx
    movl  $READY, %eax
    outl  %eax, %dx

irq_wait_loop:
    cli
    cmpl  $1, %edi
    jne   4f
    movw  $DOORBELL_PORT, %dx
    movw  $0xd00b, %ax
    outw  %ax, %dx              // an ioeventfd: no exit
    jmp   5f
4:  cmpl  $2, %edi
    jne   5f
    movl  $DOORBELL_MMIO, %ebx
    movl  $0xd00b, (%ebx)       // an ioeventfd: no exit
5:  sti
    hlt                         // in-kernel LAPIC: the vCPU sleeps in KVM until an interrupt
    jmp   irq_wait_loop

// Stack on entry: the vector (pushed by the stub), IP, CS, FLAGS.
irq_common:
    pushl %eax
    pushl %ebx
    pushl %ecx
    pushl %edx
    movw  %sp, %bx
    movzwl %ss:16(%bx), %ecx    // the vector
    movw  $PORT_IRQ, %dx
    movl  %ecx, %eax
    outl  %eax, %dx             // "vector V was taken"
    cmpl  $0x30, %ecx
    jae   7f
    movb  $0x20, %al            // OCW2: non-specific EOI
    cmpl  $0x28, %ecx
    jb    6f
    outb  %al, $0xa0            // a slave IRQ: the slave first, then the master
6:  outb  %al, $0x20
    jmp   8f
7:  movl  $LAPIC_EOI, %ebx
    movl  $0, (%ebx)
8:  movw  $PORT_EOI, %dx
    movl  %ecx, %eax
    outl  %eax, %dx             // "vector V acknowledged"
    popl  %edx
    popl  %ecx
    popl  %ebx
    popl  %eax
    addw  $2, %sp               // drop the vector
    iret

// 256 stubs, 8 bytes apart: stub V pushes V and jumps to the common handler.
    .balign 8
irq_stubs:
    vector = 0
    .rept 256
    .balign 8
    pushw $vector
    jmp   irq_common
    vector = vector + 1
    .endr
END(irq_wait)

    .section .note.GNU-stack, "", @progbits
