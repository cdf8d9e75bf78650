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

#if KVMXX_ARCH_X86_64
namespace x86 {
/// The x86 VM types of KVM_CREATE_VM (KVM_X86_*_VM); which a host offers, Kvm::vm_types() says.
enum class VmType : unsigned {
    Default = 0,      ///< KVM_X86_DEFAULT_VM: every x86 kernel's VM
    SwProtected = 1,  ///< KVM_X86_SW_PROTECTED_VM (Linux 6.8): private memory without hardware encryption, for testing
    Sev = 2,          ///< KVM_X86_SEV_VM (Linux 6.10)
    SevEs = 3,        ///< KVM_X86_SEV_ES_VM (Linux 6.10)
    SevSnp = 4,       ///< KVM_X86_SNP_VM (Linux 6.11)
    Tdx = 5,          ///< KVM_X86_TDX_VM (Linux 6.16)
};
/// "KVM_X86_SW_PROTECTED_VM" for VmType::SwProtected, "KVM_X86_?_VM" for a number kvmxx does not name.
inline const char* vm_type_name(VmType type) noexcept {
    switch (type) {
        case VmType::Default: return "KVM_X86_DEFAULT_VM";
        case VmType::SwProtected: return "KVM_X86_SW_PROTECTED_VM";
        case VmType::Sev: return "KVM_X86_SEV_VM";
        case VmType::SevEs: return "KVM_X86_SEV_ES_VM";
        case VmType::SevSnp: return "KVM_X86_SNP_VM";
        case VmType::Tdx: return "KVM_X86_TDX_VM";
    }
    return "KVM_X86_?_VM";
}
}  // namespace x86
#endif

/// How to create a VM.
struct VmOptions {
    /// arm64: guest physical address bits; 0 means the host's limit
    /// (KVM_CAP_ARM_VM_IPA_SIZE), so every address the host can map is usable.
    unsigned ipa_bits = 0;
#if KVMXX_ARCH_X86_64
    /// x86: the VM type (KVM_CREATE_VM's argument); anything but Default needs a host whose
    /// KVM_CAP_VM_TYPES (Linux 6.8) offers it (Kvm::vm_types()).
    x86::VmType type = x86::VmType::Default;
#endif
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

    /// KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES) (Linux 6.8, x86): the VM types KVM_CREATE_VM
    /// takes, bit n for type n (bit 0, KVM_X86_DEFAULT_VM, on every x86 host that has the
    /// capability). 0 where the capability is absent: older kernels, and arm64, whose
    /// KVM_CREATE_VM argument is the IPA size instead.
    ///
    /// Example [vm_types], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     bool sw_protected = (*kvm.vm_types() >> 1) & 1;      // KVM_X86_SW_PROTECTED_VM
    [[nodiscard]] Result<std::uint32_t> vm_types() const {
        return check(Cap::VmTypes).transform([](int mask) { return static_cast<std::uint32_t>(mask); });
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
        const auto type = static_cast<unsigned>(options.type);
        if (type == 0) return 0UL;
        const char* name = x86::vm_type_name(options.type);
        auto mask = vm_types();
        if (!mask) return unexpected<Error>(std::move(mask).error());
        if (*mask == 0)
            return fail_with_hint("KVM_CREATE_VM", EOPNOTSUPP, std::string("type=") + name,
                                  "this kernel lacks KVM_CAP_VM_TYPES (added in Linux 6.8): only KVM_X86_DEFAULT_VM");
        if (type >= 32 || ((*mask >> type) & 1u) == 0)
            return fail_with_hint("KVM_CREATE_VM", EOPNOTSUPP, std::string("type=") + name,
                                  "this host's KVM_CAP_VM_TYPES offers only the types in mask " + trace::hex(*mask) +
                                      " (bit n = type n; bit 0 = KVM_X86_DEFAULT_VM)");
        return static_cast<unsigned long>(type);
#endif
    }

    UniqueFd fd_;
};

KVMXX_END_NAMESPACE
