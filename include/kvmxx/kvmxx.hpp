// kvmxx/kvmxx.hpp — everything in one include.
//
// Example [include_all], built by tests/unit/doc_examples_test.cpp:
//
//     #include <kvmxx/kvmxx.hpp>
#pragma once

#include "config.hpp"
#include "expected.hpp"
#include "error.hpp"
#include "unique_fd.hpp"
#include "mapping.hpp"
#include "trace.hpp"
#include "ioctl.hpp"
#include "uapi.hpp"
#include "concepts.hpp"
#include "mmio_bus.hpp"
#include "eventfd.hpp"
#include "kvm_cap.hpp"
#include "reg_id.hpp"
#include "exit.hpp"
#include "device.hpp"
#include "irq_route.hpp"
#include "vcpu.hpp"
#include "vm.hpp"
#include "kvm.hpp"
#include "arm64/regs.hpp"
#include "arm64/sve.hpp"
#include "arm64/gic.hpp"
#include "arm64/vgic.hpp"
#include "x86/cpuid.hpp"
#include "x86/vcpu_state.hpp"
#include "x86/modes.hpp"
#include "vfio/cap_chain.hpp"
#include "vfio/pci_config.hpp"
#include "vfio/container.hpp"
#include "vfio/device.hpp"
#include "vfio/group.hpp"
#include "vfio/kvm_vfio.hpp"
