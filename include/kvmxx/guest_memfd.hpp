// kvmxx/guest_memfd.hpp — `GuestMemfd`: guest memory that belongs to a VM, not to the
// VMM's address space (KVM_CREATE_GUEST_MEMFD, Linux 6.8).
//
// A guest_memfd is a file of guest memory made by one VM (Vm::create_guest_memfd). A
// memory slot made with KVM_SET_USER_MEMORY_REGION2 and KVM_MEM_GUEST_MEMFD
// (Vm::add_guest_memfd_memory) takes its private pages from it; on a VM with memory
// attributes (x86 KVM_X86_SW_PROTECTED_VM, SEV-SNP, TDX) the guest's private pages can
// then be kept out of the host's reach. With GUEST_MEMFD_FLAG_MMAP (Linux 6.18, where
// KVM_CAP_GUEST_MEMFD_FLAGS offers it) the host may map it too and a normal VM runs
// from it as from any memory.
//
// Example [guest_memfd], built by tests/unit/doc_examples_test.cpp:
//
//     auto gmem = vm.create_guest_memfd(2 << 20);             // KVM_CREATE_GUEST_MEMFD
//     auto slot = vm.add_guest_memfd_memory(0x8000'0000, *gmem, 0, 2 << 20);
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "mapping.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <string>

KVMXX_BEGIN_NAMESPACE

/// GUEST_MEMFD_FLAG_* of KVM_CREATE_GUEST_MEMFD; which a VM takes, KVM_CAP_GUEST_MEMFD_FLAGS says.
enum class GuestMemfdFlags : std::uint64_t {
    None = 0,
    Mmap = 1ull << 0,        ///< GUEST_MEMFD_FLAG_MMAP (Linux 6.18): the host may mmap() it
    InitShared = 1ull << 1,  ///< GUEST_MEMFD_FLAG_INIT_SHARED (Linux 6.18): pages start shared
};
/// Both sets of flags.
constexpr GuestMemfdFlags operator|(GuestMemfdFlags a, GuestMemfdFlags b) noexcept {
    return static_cast<GuestMemfdFlags>(static_cast<std::uint64_t>(a) | static_cast<std::uint64_t>(b));
}

/// One guest_memfd (from Vm::create_guest_memfd): owns the fd, knows its size and flags.
/// Move-only. A slot bound to it keeps the kernel's file alive after this closes, so a
/// GuestMemfd may go before its slots do; the memory is freed when both are gone.
class GuestMemfd {
public:
    GuestMemfd() = default;
    /// Takes ownership of a guest_memfd fd made with `size` and `flags` (e.g. by a raw
    /// KVM_CREATE_GUEST_MEMFD on Vm::fd()).
    GuestMemfd(UniqueFd fd, std::uint64_t size, GuestMemfdFlags flags) noexcept
        : fd_(std::move(fd)), size_(size), flags_(flags) {}

    /// Maps the whole file shared into this process (mmap of the guest_memfd): what the
    /// guest sees at the slots bound to it. Needs GuestMemfdFlags::Mmap; without it the
    /// kernel refuses (ENODEV), and so does kvmxx, first, with a hint.
    ///
    /// Safety: the mapping may be passed as the `host` of Vm::add_guest_memfd_memory; it
    /// must then stay mapped until the slot is removed (the Mapping unmaps when destroyed).
    [[nodiscard]] Result<Mapping> map() const {
        if ((static_cast<std::uint64_t>(flags_) & static_cast<std::uint64_t>(GuestMemfdFlags::Mmap)) == 0)
            return fail_with_hint("mmap", ENODEV, "guest_memfd fd=" + std::to_string(fd_.get()),
                                  "create the guest_memfd with GuestMemfdFlags::Mmap (GUEST_MEMFD_FLAG_MMAP, "
                                  "Linux 6.18) to map it into the host");
        return Mapping::of_fd(fd_.get(), static_cast<std::size_t>(size_), 0);
    }

    std::uint64_t size() const noexcept { return size_; }        ///< bytes, as created
    GuestMemfdFlags flags() const noexcept { return flags_; }     ///< GUEST_MEMFD_FLAG_* it was created with
    int fd() const noexcept { return fd_.get(); }                 ///< the raw fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }           ///< holds an fd (not default/moved-from)

private:
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    GuestMemfdFlags flags_ = GuestMemfdFlags::None;
};

KVMXX_END_NAMESPACE
