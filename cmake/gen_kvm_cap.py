#!/usr/bin/env python3
"""Regenerates the capability table of include/kvmxx/kvm_cap.hpp and the header
check of tests/unit/cap_names_test.cpp from a kernel's UAPI <linux/kvm.h>.

    python3 cmake/gen_kvm_cap.py /path/to/usr/include/linux/kvm.h

Why numbers and not the macros: kvmxx builds against the headers of the
distribution (Debian bookworm: 6.1), but the kernel it runs on may be much newer;
naming a capability must not depend on the headers knowing it. The numbers are
kernel ABI and never change; the test checks them against whichever headers the
build has.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
header = pathlib.Path(sys.argv[1]).read_text()
caps = [(m.group(1), int(m.group(2)))
        for m in re.finditer(r'^#define KVM_CAP_([A-Z0-9_]+)\s+(\d+)', header, re.M)]
caps.sort(key=lambda c: c[1])


def camel(name):
    return ''.join(part[0] + part[1:].lower() for part in name.split('_'))


table = ''.join(f'    X({camel(n)}, "KVM_CAP_{n}", {v}) \\\n' for n, v in caps)
hpp = root / 'include/kvmxx/kvm_cap.hpp'
text = hpp.read_text()
begin = text.index('#define KVMXX_CAPS(X) \\\n') + len('#define KVMXX_CAPS(X) \\\n')
end = text.index('// end of KVMXX_CAPS')
hpp.write_text(text[:begin] + table + '\n' + text[end:])

checks = ''.join(f'#ifdef KVM_CAP_{n}\nstatic_assert(static_cast<int>(Cap::{camel(n)}) == KVM_CAP_{n});\n#endif\n'
                 for n, _ in caps)
test = root / 'tests/unit/cap_names_test.cpp'
text = test.read_text()
begin = text.index('// begin generated checks\n') + len('// begin generated checks\n')
end = text.index('// end generated checks')
test.write_text(text[:begin] + checks + text[end:])
print(f'{len(caps)} capabilities, highest {caps[-1][1]}')
