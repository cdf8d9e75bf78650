// kvmxx/kvm.hpp — `Kvm`: the /dev/kvm system fd, where every VM starts.
//
// Example [kvm], built by tests/unit/doc_examples_test.cpp:
//
//     auto kvm = kvmxx::Kvm::open();                 // open("/dev/kvm") + KVM_GET_API_VERSION
//     if (!kvm) { std::puts(kvm.error().message().c_str()); return; }
//     auto vm = kvm->create_vm();                    // KVM_CREATE_VM
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "ioctl.hpp"
#include "kvm_cap.hpp"
#include "trace.hpp"
#include "unique_fd.hpp"
#include "vm.hpp"
#include "x86/cpuid.hpp"
#include "x86/vcpu_state.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

KVMXX_BEGIN_NAMESPACE

/// How to create a VM.
struct VmOptions {
    /// arm64: guest physical address bits; 0 means the host's limit
    /// (KVM_CAP_ARM_VM_IPA_SIZE), so every address the host can map is usable.
    unsigned ipa_bits = 0;
};


/// The system fd, /dev/kvm: API version and capability checks, sizes the
/// other objects need, and VM creation. Move-only; VMs outlive it.
class Kvm {
public:
    Kvm() = default;
    /// Takes ownership of an open /dev/kvm fd (open() also checks the API version).
    explicit Kvm(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    /// Opens `path` (default /dev/kvm) and checks KVM_GET_API_VERSION == 12.
    /// A missing device, a permission problem or a file that is not KVM each
    /// give an Error with a hint.
    [[nodiscard]] static Result<Kvm> open(const char* path = "/dev/kvm") {
        const int fd = ::open(path, O_RDWR | O_CLOEXEC);
        if (trace::enabled()) [[unlikely]]
            sys::trace_ioctl("open", std::string("path=") + path, fd, errno);
        if (fd < 0) return fail_errno("open", std::string(path));
        Kvm kvm{UniqueFd(fd)};
        auto version = kvm.api_version();
        if (!version) {
            auto e = std::move(version).error();
            return fail(e.operation(), e.errnum(), std::string(path) + " is not a KVM device");
        }
        if (*version != KVM_API_VERSION)
            return fail_with_hint("KVM_GET_API_VERSION", EINVAL,
                                  std::string(path) + " reports API version " + std::to_string(*version),
                                  "kvmxx needs KVM API version 12, which every Linux since 2.6.22 has");
        return kvm;
    }

    /// KVM_GET_API_VERSION (always 12 on a kernel kvmxx supports).
    [[nodiscard]] Result<int> api_version() const {
        return sys::ioctl(fd_.get(), KVM_GET_API_VERSION, "KVM_GET_API_VERSION", 0UL);
    }

    /// KVM_CHECK_EXTENSION: 0 when absent, otherwise 1 or a capability-specific number.
    [[nodiscard]] Result<int> check(Cap cap) const {
        return sys::ioctl(fd_.get(), KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION", static_cast<unsigned long>(cap),
                          [&] { return std::string("cap=") + cap_name(cap); });
    }
    /// True when check(cap) > 0.
    bool has(Cap cap) const {
        auto r = check(cap);
        return r && *r > 0;
    }

    /// KVM_GET_VCPU_MMAP_SIZE: bytes of each vCPU's kvm_run mapping.
    [[nodiscard]] Result<std::size_t> vcpu_mmap_size() const {
        return sys::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE", 0UL).transform([](int n) {
            return static_cast<std::size_t>(n);
        });
    }

    /// KVM_CREATE_VM. On arm64 the VM type carries the IPA size (see VmOptions).
    [[nodiscard]] Result<Vm> create_vm(const VmOptions& options = {}) const {
        auto run_size = vcpu_mmap_size();
        if (!run_size) return unexpected<Error>(std::move(run_size).error());
        auto type = vm_type(options);
        if (!type) return unexpected<Error>(std::move(type).error());
        auto fd = sys::ioctl(fd_.get(), KVM_CREATE_VM, "KVM_CREATE_VM", *type,
                             [&] { return "type=" + trace::hex(*type); });
        if (!fd) return unexpected<Error>(std::move(fd).error());
        return Vm(UniqueFd(*fd), *run_size);
    }

#if KVMXX_ARCH_X86_64
    /// KVM_GET_SUPPORTED_CPUID: what a vCPU may be given with Vcpu::set_cpuid.
    [[nodiscard]] Result<CpuidTable> supported_cpuid() const {
        CpuidTable t(256);  // KVM_MAX_CPUID_ENTRIES, not in the UAPI headers
        auto r = sys::ioctl(fd_.get(), uapi::get_supported_cpuid, "KVM_GET_SUPPORTED_CPUID", t.arg());
        if (!r) return unexpected<Error>(std::move(r).error());
        return t;
    }

    /// KVM_GET_MSR_INDEX_LIST: the MSRs Vcpu::get_msrs / set_msrs can save and
    /// restore on this host (asked once for the count, then for the list).
    [[nodiscard]] Result<std::vector<std::uint32_t>> msr_index_list() const {
        uapi::MsrListHead probe{};
        if (::ioctl(fd_.get(), uapi::get_msr_index_list, &probe) < 0 && errno != E2BIG)  // E2BIG, nmsrs filled in
            return fail_errno("KVM_GET_MSR_INDEX_LIST", "nmsrs=0");
        const std::uint32_t n = probe.nmsrs;
        uapi::FlexArg<uapi::MsrListHead, std::uint32_t> list(n);
        list.head().nmsrs = n;
        auto r = sys::ioctl(fd_.get(), uapi::get_msr_index_list, "KVM_GET_MSR_INDEX_LIST", list.arg(),
                            [&] { return trace::Args().dec("nmsrs", n).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        auto indices = list.entries(list.head().nmsrs);
        return std::vector<std::uint32_t>(indices.begin(), indices.end());
    }
#endif

    int fd() const noexcept { return fd_.get(); }        ///< the raw /dev/kvm fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }  ///< holds an fd (not default/moved-from)

private:
    [[nodiscard]] Result<unsigned long> vm_type(const VmOptions& options) const {
#if KVMXX_ARCH_ARM64
        auto max = check(Cap::ArmVmIpaSize);
        const int host_max = max ? *max : 0;
        if (host_max == 0) {
            if (options.ipa_bits != 0 && options.ipa_bits != 40)
                return fail_with_hint("KVM_CREATE_VM", EINVAL, "ipa_bits=" + std::to_string(options.ipa_bits),
                                      "this host has a fixed 40-bit IPA space; leave ipa_bits at 0");
            return 0UL;  // the historical fixed 40-bit IPA space
        }
        const unsigned bits = options.ipa_bits ? options.ipa_bits : static_cast<unsigned>(host_max);
        if (bits < 32 || bits > static_cast<unsigned>(host_max))
            return fail_with_hint("KVM_CREATE_VM", EINVAL, "ipa_bits=" + std::to_string(bits),
                                  "the host supports 32.." + std::to_string(host_max) + " IPA bits");
        return static_cast<unsigned long>(bits & KVM_VM_TYPE_ARM_IPA_SIZE_MASK);
#else
        (void)options;
        return 0UL;
#endif
    }

    UniqueFd fd_;
};

KVMXX_END_NAMESPACE
