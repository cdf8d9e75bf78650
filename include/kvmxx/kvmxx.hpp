// kvmxx/kvmxx.hpp — everything in one include.
//
//     #include <kvmxx/kvmxx.hpp>
//     auto kvm = kvmxx::Kvm::open();
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
#include "arm64/gic.hpp"
#include "arm64/vgic.hpp"
#include "x86/cpuid.hpp"
#include "vfio/cap_chain.hpp"
#include "vfio/pci_config.hpp"
#include "vfio/container.hpp"
#include "vfio/device.hpp"
#include "vfio/group.hpp"
#include "vfio/kvm_vfio.hpp"
