// kvmxx/uapi.hpp — the kernel's variable-length ioctl arguments, laid out the way C
// lays them out, whatever the C++ compiler makes of the UAPI headers.
//
// Why this exists: the UAPI structs that end in a flexible array (kvm_cpuid2,
// kvm_msrs, kvm_reg_list, kvm_irq_routing, ...) declare it with
// __DECLARE_FLEX_ARRAY, which in the headers before Linux 6.7 wraps the array in
// a struct that begins with an empty struct. An empty struct is 0 bytes in C but
// 1 byte in C++, so on x86_64 a C++ translation unit sees sizeof(kvm_cpuid2) == 12
// and the entries 4 bytes late. The struct size is part of the ioctl number
// (KVM_GET_SUPPORTED_CPUID is _IOWR(KVMIO, 0x05, struct kvm_cpuid2)), so such a
// call reaches the kernel as an unknown ioctl and fails with EINVAL. (The x86_64
// testbed found this; arm64's g++ happens to lay these structs out as C does.)
//
// So kvmxx never uses those structs' sizes or array members. For each one a `Head`
// struct holds the fields before the array; the ioctl number is rebuilt from it
// (checked below against the numbers the kernel defines), and FlexArg puts the
// entries right after the head, as the C layout does.
#pragma once

#include "config.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

KVMXX_BEGIN_NAMESPACE
/// Variable-length ioctl arguments laid out by hand, and the ioctl numbers C computes for them.
namespace uapi {

/// The fields of `struct kvm_reg_list` before `reg[]`.
struct RegListHead {
    __u64 n;  ///< capacity of reg[] going in, registers the vCPU has coming out
};
/// The fields of `struct kvm_irq_routing` before `entries[]`.
struct IrqRoutingHead {
    __u32 nr;     ///< entries that follow
    __u32 flags;  ///< must be 0
};

inline constexpr unsigned long get_reg_list = _IOWR(KVMIO, 0xb0, RegListHead);        ///< KVM_GET_REG_LIST
inline constexpr unsigned long set_gsi_routing = _IOW(KVMIO, 0x6a, IrqRoutingHead);  ///< KVM_SET_GSI_ROUTING
// The numbers a C compiler computes from the UAPI headers (see the comment above).
static_assert(get_reg_list == 0xc008aeb0UL);
static_assert(set_gsi_routing == 0x4008ae6aUL);

#if KVMXX_ARCH_X86_64
/// The fields of `struct kvm_msrs` before `entries[]`.
struct MsrsHead {
    __u32 nmsrs;  ///< entries that follow
    __u32 pad;    ///< must be 0
};
/// The fields of `struct kvm_cpuid2` before `entries[]`.
struct Cpuid2Head {
    __u32 nent;     ///< entries that follow (capacity, for KVM_GET_SUPPORTED_CPUID)
    __u32 padding;  ///< must be 0
};
inline constexpr unsigned long get_msrs = _IOWR(KVMIO, 0x88, MsrsHead);                ///< KVM_GET_MSRS
inline constexpr unsigned long set_msrs = _IOW(KVMIO, 0x89, MsrsHead);                 ///< KVM_SET_MSRS
inline constexpr unsigned long get_supported_cpuid = _IOWR(KVMIO, 0x05, Cpuid2Head);  ///< KVM_GET_SUPPORTED_CPUID
inline constexpr unsigned long set_cpuid2 = _IOW(KVMIO, 0x90, Cpuid2Head);            ///< KVM_SET_CPUID2
static_assert(get_msrs == 0xc008ae88UL && set_msrs == 0x4008ae89UL);
static_assert(get_supported_cpuid == 0xc008ae05UL && set_cpuid2 == 0x4008ae90UL);
#endif

/// The page offset, in a vCPU fd's mmap space, of its dirty ring (KVM_DIRTY_LOG_PAGE_OFFSET).
/// 64 on x86_64 (Linux 5.11) and arm64 (Linux 6.3). Carried here because the arm64
/// headers before 6.3 leave the macro to <linux/kvm.h>'s fallback of 0.
inline constexpr std::uint64_t dirty_log_page_offset = 64;
#if defined(KVM_DIRTY_LOG_PAGE_OFFSET)
static_assert(KVM_DIRTY_LOG_PAGE_OFFSET == 0 || KVM_DIRTY_LOG_PAGE_OFFSET == dirty_log_page_offset);
#endif

// ---- Memory API of Linux 6.8-6.18, carried here for builds on older headers ----
// Field for field the structs of <linux/kvm.h> (api.rst names each one), checked
// against the headers below wherever the headers have them.

/// `struct kvm_userspace_memory_region2` (Linux 6.8), KVM_SET_USER_MEMORY_REGION2's argument.
struct UserspaceMemoryRegion2 {
    __u32 slot;                 ///< address space (high 16 bits) and slot id
    __u32 flags;                ///< KVM_MEM_* (mem_guest_memfd among them)
    __u64 guest_phys_addr;      ///< guest-physical start
    __u64 memory_size;          ///< bytes; 0 deletes the slot
    __u64 userspace_addr;       ///< host address of the shared (or only) backing
    __u64 guest_memfd_offset;   ///< where the slot starts in the guest_memfd
    __u32 guest_memfd;          ///< the guest_memfd, with mem_guest_memfd
    __u32 pad1;                 ///< must be 0
    __u64 pad2[14];             ///< must be 0
};
/// `struct kvm_create_guest_memfd` (Linux 6.8), KVM_CREATE_GUEST_MEMFD's argument.
struct CreateGuestMemfd {
    __u64 size;         ///< bytes, page aligned
    __u64 flags;        ///< GUEST_MEMFD_FLAG_*
    __u64 reserved[6];  ///< must be 0
};
/// `struct kvm_memory_attributes` (Linux 6.8), KVM_SET_MEMORY_ATTRIBUTES's argument.
struct MemoryAttributes {
    __u64 address;     ///< guest-physical start, page aligned
    __u64 size;        ///< bytes, page aligned; the kernel advances address/size as it goes
    __u64 attributes;  ///< KVM_MEMORY_ATTRIBUTE_*
    __u64 flags;       ///< must be 0
};
/// `struct kvm_pre_fault_memory` (Linux 6.11), KVM_PRE_FAULT_MEMORY's argument (in/out).
struct PreFaultMemory {
    __u64 gpa;         ///< guest-physical start; the kernel advances it past what it mapped
    __u64 size;        ///< bytes; the kernel lowers it by what it mapped
    __u64 flags;       ///< must be 0
    __u64 padding[5];  ///< must be 0
};
static_assert(sizeof(UserspaceMemoryRegion2) == 160 && sizeof(CreateGuestMemfd) == 64);
static_assert(sizeof(MemoryAttributes) == 32 && sizeof(PreFaultMemory) == 64);

inline constexpr unsigned long set_user_memory_region2 = _IOW(KVMIO, 0x49, UserspaceMemoryRegion2);  ///< KVM_SET_USER_MEMORY_REGION2
inline constexpr unsigned long create_guest_memfd = _IOWR(KVMIO, 0xd4, CreateGuestMemfd);             ///< KVM_CREATE_GUEST_MEMFD
inline constexpr unsigned long set_memory_attributes = _IOW(KVMIO, 0xd2, MemoryAttributes);           ///< KVM_SET_MEMORY_ATTRIBUTES
inline constexpr unsigned long pre_fault_memory = _IOWR(KVMIO, 0xd5, PreFaultMemory);                 ///< KVM_PRE_FAULT_MEMORY
// The numbers a C compiler computes from the Linux 6.18 UAPI headers.
static_assert(set_user_memory_region2 == 0x40a0ae49UL && create_guest_memfd == 0xc040aed4UL);
static_assert(set_memory_attributes == 0x4020aed2UL && pre_fault_memory == 0xc040aed5UL);

inline constexpr __u32 mem_guest_memfd = 1u << 2;                   ///< KVM_MEM_GUEST_MEMFD (slot flag)
inline constexpr __u64 memory_attribute_private = 1ull << 3;        ///< KVM_MEMORY_ATTRIBUTE_PRIVATE
inline constexpr __u64 guest_memfd_flag_mmap = 1ull << 0;           ///< GUEST_MEMFD_FLAG_MMAP (Linux 6.18)
inline constexpr __u64 guest_memfd_flag_init_shared = 1ull << 1;    ///< GUEST_MEMFD_FLAG_INIT_SHARED (Linux 6.18)
inline constexpr __u32 exit_memory_fault = 39;                      ///< KVM_EXIT_MEMORY_FAULT (Linux 6.8)
inline constexpr __u64 memory_exit_flag_private = 1ull << 3;        ///< KVM_MEMORY_EXIT_FLAG_PRIVATE
inline constexpr unsigned long x86_default_vm = 0;                  ///< KVM_X86_DEFAULT_VM
inline constexpr unsigned long x86_sw_protected_vm = 1;             ///< KVM_X86_SW_PROTECTED_VM (Linux 6.8)

#if defined(KVM_SET_USER_MEMORY_REGION2)
static_assert(set_user_memory_region2 == KVM_SET_USER_MEMORY_REGION2 && mem_guest_memfd == KVM_MEM_GUEST_MEMFD);
static_assert(sizeof(UserspaceMemoryRegion2) == sizeof(kvm_userspace_memory_region2));
static_assert(create_guest_memfd == KVM_CREATE_GUEST_MEMFD && exit_memory_fault == KVM_EXIT_MEMORY_FAULT);
static_assert(memory_exit_flag_private == KVM_MEMORY_EXIT_FLAG_PRIVATE);
#endif
#if defined(KVM_SET_MEMORY_ATTRIBUTES)
static_assert(set_memory_attributes == KVM_SET_MEMORY_ATTRIBUTES && memory_attribute_private == KVM_MEMORY_ATTRIBUTE_PRIVATE);
#endif
#if defined(KVM_PRE_FAULT_MEMORY)
static_assert(pre_fault_memory == KVM_PRE_FAULT_MEMORY);
#endif
#if defined(GUEST_MEMFD_FLAG_MMAP)
static_assert(guest_memfd_flag_mmap == GUEST_MEMFD_FLAG_MMAP);
#endif
#if defined(GUEST_MEMFD_FLAG_INIT_SHARED)
static_assert(guest_memfd_flag_init_shared == GUEST_MEMFD_FLAG_INIT_SHARED);
#endif
#if defined(KVM_X86_SW_PROTECTED_VM)
static_assert(x86_sw_protected_vm == KVM_X86_SW_PROTECTED_VM && x86_default_vm == KVM_X86_DEFAULT_VM);
#endif

/// A `Head` followed by room for `capacity` entries, zeroed, in one 8-byte
/// aligned buffer: the argument of a variable-length ioctl.
template <class Head, class Entry>
class FlexArg {
    static_assert(alignof(Entry) <= 8 && sizeof(Head) % alignof(Entry) == 0,
                  "in C the entries start right after the head");

public:
    /// A zeroed head and `capacity` zeroed entries.
    explicit FlexArg(std::size_t capacity)
        : words_((sizeof(Head) + capacity * sizeof(Entry) + 7) / 8), capacity_(capacity) {}

    /// The fixed fields (counts, flags) in front of the entries.
    /// @{
    Head& head() noexcept { return *reinterpret_cast<Head*>(words_.data()); }
    const Head& head() const noexcept { return *reinterpret_cast<const Head*>(words_.data()); }
    /// @}
    /// The first `n` entries (n ≤ capacity()).
    /// @{
    std::span<Entry> entries(std::size_t n) noexcept { return {first(), n}; }
    std::span<const Entry> entries(std::size_t n) const noexcept { return {first(), n}; }
    /// @}
    /// Entries the buffer has room for.
    std::size_t capacity() const noexcept { return capacity_; }
    /// What the ioctl takes.
    /// @{
    void* arg() noexcept { return words_.data(); }
    const void* arg() const noexcept { return words_.data(); }
    /// @}

private:
    Entry* first() noexcept { return reinterpret_cast<Entry*>(reinterpret_cast<std::byte*>(words_.data()) + sizeof(Head)); }
    const Entry* first() const noexcept {
        return reinterpret_cast<const Entry*>(reinterpret_cast<const std::byte*>(words_.data()) + sizeof(Head));
    }
    std::vector<std::uint64_t> words_;
    std::size_t capacity_;
};

}  // namespace uapi
KVMXX_END_NAMESPACE
