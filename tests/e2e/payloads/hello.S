// hello.S — the raw-payload check: a flat binary with no arm64 Image header
// finds the PL011 in the device tree whose address it got in x0, prints through
// it where it runs, where the UART and the DTB are and the PSCI version, and
// powers off with SYSTEM_OFF.
#include "payload.h"

    payload_start
    print "kvmxx-payload: hello from a raw binary at "
    adr x0, _start
    bl puthex
    print ", through the PL011 at "
    mov x0, x20
    bl puthex
    print " found in the DTB at "
    mov x0, x19
    bl puthex
    print "\n"
    psci PSCI_VERSION
    mov x25, x0
    print "kvmxx-payload: PSCI "
    lsr x0, x25, #16
    bl putdec
    print "."
    and x0, x25, #0xffff
    bl putdec
    print "\n"
    b ok

irq_handler:
    ret

#include "payload_lib.S"
