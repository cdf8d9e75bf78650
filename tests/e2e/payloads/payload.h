// payload.h — what every bare-metal payload of tests/e2e shares: its macros here,
// its routines in payload_lib.S (each payload includes this first and that last,
// so that its own _start is its first byte). Each is assembled with the cross
// toolchain into a flat binary by CMake (tests/CMakeLists.txt), loaded by
// kvmxx-vmm as a raw binary at RAM + 0x80000 and entered at its first byte with
// the DTB address in x0, the MMU off, at EL1h with interrupts masked.
//
// The payloads find their devices in the device tree the VMM passed: fdt_find
// walks the DTB's structure block for the first node whose first "compatible"
// string is a given one and returns the first two (address, size) pairs of its
// "reg" — a minimal parser, enough for the PL011 (arm,pl011), the GIC
// (arm,gic-v3: distributor, redistributors) and the PMU node (arm,armv8-pmuv3).
// Nothing else is assumed about the board.
//
// Each payload prints "kvmxx-payload: ..." lines through the PL011 and ends with
// "kvmxx-payload: status ok" or "kvmxx-payload: status FAIL: why", then PSCI
// SYSTEM_OFF (KVM's in-kernel PSCI, through hvc #0). tests/e2e/payloads.sh
// checks the lines and the VMM's exit status.
//
// Registers kept for the whole run: x19 DTB, x20 PL011 base, x22 GIC
// distributor, x23 first redistributor, x24 a deadline (CNTVCT).
// With the MMU off every data access is Device memory: aligned accesses only.

#define PSCI_VERSION        0x84000000
#define PSCI_CPU_OFF        0x84000002
#define PSCI_CPU_ON         0xc4000003
#define PSCI_AFFINITY_INFO  0xc4000004
#define PSCI_SYSTEM_OFF     0x84000008
#define PSCI_FEATURES       0x8400000a

    .text
    .global _start

// psci FN: x0 = FN, hvc #0; the result in x0 (x1..x3 are the arguments).
.macro psci fn
    movz w0, #((\fn) & 0xffff)
    movk w0, #((\fn) >> 16), lsl #16
    hvc #0
.endm

// print "text": puts a string kept inline (clobbers x0..x3, x30).
.macro print str
    adr x0, .Lstr\@
    bl puts
    b .Lskip\@
.Lstr\@: .asciz "\str"
    .balign 4
.Lskip\@:
.endm

// FAIL "why": the status line and SYSTEM_OFF.
.macro FAIL str
    adr x0, .Lfail\@
    b fail
.Lfail\@: .asciz "\str"
    .balign 4
.endm

// mov64 xN, IMM: any 64-bit constant.
.macro mov64 reg, imm
    movz \reg, #((\imm) & 0xffff)
    movk \reg, #(((\imm) >> 16) & 0xffff), lsl #16
    movk \reg, #(((\imm) >> 32) & 0xffff), lsl #32
    movk \reg, #(((\imm) >> 48) & 0xffff), lsl #48
.endm

// set_deadline SECONDS: x24 = now + SECONDS of the virtual counter.
.macro set_deadline seconds
    mrs x0, cntfrq_el0
    mov x1, #\seconds
    mul x0, x0, x1
    mrs x1, cntvct_el0
    add x24, x1, x0
.endm

// past_deadline LABEL: branch to LABEL once x24 has passed.
.macro past_deadline label
    mrs x0, cntvct_el0
    cmp x0, x24
    b.hi \label
.endm

// The start every payload shares: the stack of vCPU 0, the vectors, the DTB,
// the UART from it (without one there is no way to speak: power off at once).
.macro payload_start
_start:
    mov x19, x0
    adr x1, stacks
    add x1, x1, #4096
    mov sp, x1
    adr x1, vectors
    msr vbar_el1, x1
    isb
    mov x0, x19
    adr x1, compat_pl011
    bl fdt_find
    cbz x1, system_off
    mov x20, x0
.endm

