// setup_sequence.hpp — the library's whole setup sequence for one VM, in the order a
// VMM runs it, for the lifecycle and fault-path tests:
//   Kvm::open → create_vm → add_memory → (x86: create_irqchip) → create_vcpu ×2
//   → (arm64: GICv3 + ITS) → EventFd → irqfd.
// Every step that allocates an fd is listed in fd_steps(), in order.
#pragma once

#include "process_usage.hpp"
#include "test_vm.hpp"

#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace kvmtest {

/// Returns the error of the Result `r` (a name, or a call that makes a new Result) if it holds one.
#define KVMTEST_TRY(r)                                                                         \
    do {                                                                                       \
        auto&& r_ = (r);                                                                       \
        if (!r_) return kvmxx::unexpected<kvmxx::Error>(std::move(r_).error());               \
    } while (0)

/// What the sequence builds; members are destroyed in the reverse order.
struct KvmSetup {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::MemoryRegion ram;
    std::vector<kvmxx::Vcpu> cpus;
#if KVMXX_ARCH_ARM64
    std::optional<kvmxx::arm64::Vgic> gic;
#endif
    kvmxx::EventFd irq;
};

/// The GSI the sequence's irqfd injects: SPI 5 on arm64, the PIC/IOAPIC's pin 5 on x86.
inline constexpr std::uint32_t setup_gsi = 5;

/// The calls of the sequence that allocate an fd, in order: the n-th fd refused
/// (EMFILE) must fail the n-th of them, and it must name it.
inline std::vector<const char*> fd_steps() {
#if KVMXX_ARCH_ARM64
    return {"open", "KVM_CREATE_VM", "KVM_CREATE_VCPU", "KVM_CREATE_VCPU",
            "KVM_CREATE_DEVICE" /* GICv3 */, "KVM_CREATE_DEVICE" /* ITS */, "eventfd"};
#else
    return {"open", "KVM_CREATE_VM", "KVM_CREATE_VCPU", "KVM_CREATE_VCPU", "eventfd"};
#endif
}

/// Runs the sequence into `s`, stopping at the first error, which it returns.
/// The RAM slot logs dirty pages, so that KVM_GET_DIRTY_LOG can ask the kernel whether it exists.
inline kvmxx::Result<> setup_kvm(KvmSetup& s, std::uint64_t ram_bytes = 1 << 20) {
    auto kvm = kvmxx::Kvm::open();
    KVMTEST_TRY(kvm);
    s.kvm = std::move(*kvm);
    auto vm = s.kvm.create_vm();
    KVMTEST_TRY(vm);
    s.vm = std::move(*vm);
    auto ram = s.vm.add_memory(ram_base, ram_bytes, kvmxx::MemoryFlags::LogDirtyPages);
    KVMTEST_TRY(ram);
    s.ram = *ram;
#if KVMXX_ARCH_X86_64
    KVMTEST_TRY(s.vm.create_irqchip());
#endif
    for (unsigned id = 0; id < 2; ++id) {
#if KVMXX_ARCH_ARM64
        auto cpu = s.vm.create_vcpu(id, {.power_off = id != 0});
#else
        auto cpu = s.vm.create_vcpu(id);
#endif
        KVMTEST_TRY(cpu);
        s.cpus.push_back(std::move(*cpu));
    }
#if KVMXX_ARCH_ARM64
    auto gic = kvmxx::arm64::Vgic::setup(s.vm, {});  // GICv3 with an ITS (GicLayout's default)
    KVMTEST_TRY(gic);
    s.gic.emplace(std::move(*gic));
#endif
    auto irq = kvmxx::EventFd::create();
    KVMTEST_TRY(irq);
    s.irq = std::move(*irq);
    KVMTEST_TRY(s.vm.irqfd(s.irq, setup_gsi));
    return {};
}

/// Whether the kernel has memory slot `slot` in `vm`, asked with the raw KVM_GET_DIRTY_LOG
/// (not Vm::dirty_log, which answers from kvmxx's own list): 0 for a slot that logs dirty
/// pages, ENOENT for none (kvm_get_dirty_log_protect). Returns the errno, 0 for present.
inline int kernel_slot_errno(const kvmxx::Vm& vm, std::uint32_t slot, std::uint64_t bytes) {
    std::vector<std::uint64_t> bitmap((bytes / 4096 + 63) / 64 + 1);
    kvm_dirty_log d{};
    d.slot = slot;
    d.dirty_bitmap = bitmap.data();
    return ::ioctl(vm.fd(), KVM_GET_DIRTY_LOG, &d) == 0 ? 0 : errno;
}

/// A setup step's error, as the fault tests require it: operation `op`, the kernel's
/// `errnum`, and one line starting "OP: " + the errno's text and name.
inline void expect_one_line(const kvmxx::Error& e, const char* op, int errnum) {
    EXPECT_STREQ(e.operation(), op);
    EXPECT_EQ(e.errnum(), errnum) << e.message();
    const std::string m = e.message();
    const std::string head = std::string(op) + ": " + std::system_category().message(errnum) + " (" +
                             kvmxx::errno_name(errnum) + ")";
    EXPECT_EQ(m.rfind(head, 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

}  // namespace kvmtest
