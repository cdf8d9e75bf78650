// kvmxx/vm.hpp — `Vm`: one virtual machine, its memory, vCPUs and interrupt wiring.
//
// Example [vm], built by tests/unit/doc_examples_test.cpp:
//
//     auto ram  = vm->add_memory(0x4000'0000, 16 << 20);    // mmap + KVM_SET_USER_MEMORY_REGION
//     auto cpu  = vm->create_vcpu(0);                       // KVM_CREATE_VCPU + mmap(kvm_run)
//
// Memory safety rule: guest RAM the Vm allocated is unmapped only after its
// slot is removed from KVM, and the destructor removes every slot first, so a
// guest can never reach host memory that was freed and reused.
#pragma once

#include "concepts.hpp"
#include "config.hpp"
#include "device.hpp"
#include "error.hpp"
#include "guest_memfd.hpp"
#include "ioctl.hpp"
#include "irq_route.hpp"
#include "kvm_cap.hpp"
#include "mapping.hpp"
#include "trace.hpp"
#include "uapi.hpp"
#include "unique_fd.hpp"
#include "vcpu.hpp"

#include <linux/kvm.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

KVMXX_BEGIN_NAMESPACE

/// KVM_MEM_* flags of a memory slot.
enum class MemoryFlags : std::uint32_t {
    None = 0,
    LogDirtyPages = KVM_MEM_LOG_DIRTY_PAGES,  ///< track guest writes for dirty_log()
    ReadOnly = KVM_MEM_READONLY,              ///< guest writes become MMIO exits
};
/// Both sets of flags.
constexpr MemoryFlags operator|(MemoryFlags a, MemoryFlags b) noexcept {
    return static_cast<MemoryFlags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}

/// One memory slot: guest-physical [gpa, gpa+size) backed by host bytes.
/// A view: valid while the slot exists in its Vm.
struct MemoryRegion {
    std::uint32_t slot = 0;                 ///< KVM slot number
    std::uint64_t gpa = 0;                  ///< guest-physical start
    std::uint64_t size = 0;                 ///< bytes
    std::uint8_t* host = nullptr;           ///< host address of gpa (userspace_addr)
    MemoryFlags flags = MemoryFlags::None;  ///< KVM_MEM_* the slot was made with
    int guest_memfd = -1;                   ///< the guest_memfd of a slot made with add_guest_memfd_memory, else -1
    std::uint64_t guest_memfd_offset = 0;   ///< where the slot starts in that guest_memfd

    /// The slot's memory as host bytes: what the guest sees at [gpa, gpa+size).
    std::span<std::uint8_t> bytes() const noexcept { return {host, size}; }
    /// [addr, addr+len) lies wholly in this slot (no overflow at the top).
    bool contains(std::uint64_t addr, std::uint64_t len) const noexcept {
        return addr >= gpa && len <= size && addr - gpa <= size - len;
    }
};

/// KVM_MEMORY_ATTRIBUTE_* of a guest-physical range (KVM_SET_MEMORY_ATTRIBUTES).
enum class MemoryAttribute : std::uint64_t {
    Shared = 0,                                  ///< no attribute: the slot's userspace memory backs the range
    Private = uapi::memory_attribute_private,  ///< KVM_MEMORY_ATTRIBUTE_PRIVATE: the slot's guest_memfd backs it
};

/// Where an ioeventfd listens: an MMIO or port address, a width, and optionally a value.
struct IoEvent {
    /// The address space a guest write lands in.
    enum class Space {
        Mmio,  ///< guest-physical memory address
        Pio    ///< x86 I/O port (KVM_IOEVENTFD_FLAG_PIO)
    };
    Space space = Space::Mmio;  ///< MMIO or port I/O
    std::uint64_t address = 0;  ///< guest-physical address or port
    std::uint32_t length = 4;  ///< 1, 2, 4 or 8; 0 matches any width (MMIO only)
    std::optional<std::uint64_t> datamatch = std::nullopt;  ///< signal only when the guest writes this value
};

/// The pages of one slot the guest wrote since the last read (KVM_GET_DIRTY_LOG).
struct DirtyLog {
    std::uint32_t slot = 0;  ///< the slot it is the log of (what clear_dirty_log clears)
    std::uint64_t gpa = 0;              ///< guest-physical start of the slot
    std::uint64_t page_size = 0;        ///< bytes per bitmap bit (the host page size)
    std::vector<std::uint64_t> bitmap;  ///< bit i = page i of the slot

    /// Guest-physical address of every dirty page, ascending.
    std::vector<std::uint64_t> dirty_pages() const {
        std::vector<std::uint64_t> out;
        for (std::size_t w = 0; w < bitmap.size(); ++w)
            for (std::uint64_t bits = bitmap[w]; bits; bits &= bits - 1)
                out.push_back(gpa + (w * 64 + static_cast<std::uint64_t>(std::countr_zero(bits))) * page_size);
        return out;
    }
};

#if KVMXX_ARCH_X86_64
namespace x86 {
/// The interrupt controllers KVM_GET_IRQCHIP and KVM_SET_IRQCHIP name (kvm_irqchip::chip_id),
/// which are also the `irqchip` of an IrqRoute irqchip entry on x86.
enum class Irqchip : std::uint32_t {
    PicMaster = KVM_IRQCHIP_PIC_MASTER,  ///< 8259 at ports 0x20-0x21: IRQ 0-7 (GSI 0-7)
    PicSlave = KVM_IRQCHIP_PIC_SLAVE,    ///< 8259 at ports 0xa0-0xa1: IRQ 8-15, cascaded on master IRQ 2
    Ioapic = KVM_IRQCHIP_IOAPIC,         ///< IOAPIC at 0xfec00000: pins 0-23 (GSI 0-23)
};
/// "PIC_MASTER", "PIC_SLAVE" or "IOAPIC", for messages and the trace.
inline const char* irqchip_name(Irqchip chip) noexcept {
    switch (chip) {
        case Irqchip::PicMaster: return "PIC_MASTER";
        case Irqchip::PicSlave: return "PIC_SLAVE";
        case Irqchip::Ioapic: return "IOAPIC";
    }
    return "?";
}
}  // namespace x86
#endif

/// One VM fd (from Kvm::create_vm): its memory slots, vCPUs, in-kernel devices
/// and interrupt plumbing (irqfd, ioeventfd, GSI routing, MSIs). Move-only; the
/// memory it allocated for slots lives as long as it does.
class Vm {
public:
    Vm() = default;
    /// Takes ownership of a VM fd; `vcpu_mmap_size` (KVM_GET_VCPU_MMAP_SIZE) is
    /// what each vCPU's kvm_run mapping needs.
    Vm(UniqueFd fd, std::size_t vcpu_mmap_size) noexcept : fd_(std::move(fd)), run_size_(vcpu_mmap_size) {}

    /// Takes over `other`'s fd, slots and memory; `other` is left empty.
    Vm(Vm&&) noexcept = default;
    /// Removes this VM's slots, then takes over `other`'s fd, slots and memory.
    Vm& operator=(Vm&& other) noexcept {
        if (this != &other) {
            remove_all_slots();
            fd_ = std::move(other.fd_);
            slots_ = std::move(other.slots_);
            run_size_ = other.run_size_;
            vcpus_ = other.vcpus_;
            msi_devid_ = other.msi_devid_;
            irqchip_ = other.irqchip_;
            dirty_ring_bytes_ = other.dirty_ring_bytes_;
        }
        return *this;
    }
    ~Vm() { remove_all_slots(); }

    // ---- memory -------------------------------------------------------------

    /// Allocates `size` bytes of zeroed anonymous memory and maps it at guest
    /// physical `gpa` (KVM_SET_USER_MEMORY_REGION). Both must be page aligned.
    ///
    /// Example [add_memory], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto ram = vm.add_memory(0x4000'0000, 64 << 20);
    ///     std::memcpy(ram->host, code, sizeof code);
    [[nodiscard]] Result<MemoryRegion> add_memory(std::uint64_t gpa, std::uint64_t size, MemoryFlags flags = MemoryFlags::None) {
        if (auto bad = check_alignment(gpa, size)) return unexpected<Error>(std::move(*bad));
        auto mem = Mapping::anonymous(size);
        if (!mem) return unexpected<Error>(std::move(mem).error());
        std::uint8_t* host = mem->data();
        return register_slot(gpa, size, host, flags, std::move(*mem));
    }

    /// Maps host memory the caller owns (e.g. a VFIO BAR mmap) at `gpa`.
    ///
    /// Safety: the caller keeps `host` mapped, and means it for this guest, until
    /// remove_memory() of the slot or the Vm's destruction. KVM keeps only the
    /// address: the guest reads and writes whatever is mapped there whenever a vCPU
    /// runs. Unmapped early, the guest's next access fails KVM_RUN with EFAULT;
    /// remapped to other memory (a new mmap at the same address), the guest reaches
    /// that memory. kvmxx checks page alignment, not ownership.
    [[nodiscard]] Result<MemoryRegion> add_user_memory(std::uint64_t gpa, std::span<std::uint8_t> host,
                                         MemoryFlags flags = MemoryFlags::None) {
        if (auto bad = check_alignment(gpa, host.size())) return unexpected<Error>(std::move(*bad));
        if (reinterpret_cast<std::uintptr_t>(host.data()) % page_size() != 0)
            return fail("KVM_SET_USER_MEMORY_REGION", EINVAL, "host address is not page aligned");
        return register_slot(gpa, host.size(), host.data(), flags, Mapping());
    }

    /// Removes a slot (KVM_SET_USER_MEMORY_REGION with size 0), then frees its memory if the Vm owns it.
    [[nodiscard]] Result<> remove_memory(std::uint32_t slot) {
        auto it = find_slot(slot);
        if (it == slots_.end())
            return fail("KVM_SET_USER_MEMORY_REGION", ENOENT, "slot=" + std::to_string(slot) + " is not in use");
        auto r = set_region(slot, it->region.gpa, 0, nullptr, 0);
        if (!r) return r;
        slots_.erase(it);
        return {};
    }

    /// Changes a slot's flags (e.g. turns dirty logging on) without moving it.
    [[nodiscard]] Result<> set_memory_flags(std::uint32_t slot, MemoryFlags flags) {
        auto it = find_slot(slot);
        if (it == slots_.end())
            return fail("KVM_SET_USER_MEMORY_REGION", ENOENT, "slot=" + std::to_string(slot) + " is not in use");
        auto& g = it->region;
        auto r = g.guest_memfd >= 0
                     ? set_region2(slot, g.gpa, g.size, g.host, static_cast<std::uint32_t>(flags) | uapi::mem_guest_memfd,
                                   g.guest_memfd, g.guest_memfd_offset)
                     : set_region(slot, g.gpa, g.size, g.host, static_cast<std::uint32_t>(flags));
        if (r) g.flags = flags;
        return r;
    }

    /// KVM_SET_USER_MEMORY_REGION, raw: nothing is tracked or freed by the Vm.
    ///
    /// Safety: `userspace_addr` is any address of this process, and the guest reads
    /// and writes what is mapped there from the moment this returns until the slot
    /// is deleted (memory_size 0) or the VM destroyed: the caller keeps it mapped,
    /// and for the guest only, that long (see add_user_memory). The Vm's own
    /// accessors (write, read, guest_span) do not know this slot.
    [[nodiscard]] Result<> set_user_memory_region(const kvm_userspace_memory_region& region) {
        return set_region(region.slot, region.guest_phys_addr, region.memory_size,
                          reinterpret_cast<std::uint8_t*>(region.userspace_addr), region.flags);
    }

    /// KVM_SET_USER_MEMORY_REGION2 (Linux 6.8, KVM_CAP_USER_MEMORY2), raw: the v1 call
    /// plus a guest_memfd and an offset in it (flag uapi::mem_guest_memfd). Nothing is
    /// tracked or freed by the Vm. Where the capability is absent it fails naming it,
    /// before any ioctl.
    ///
    /// Example [set_user_memory_region2], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     kvmxx::uapi::UserspaceMemoryRegion2 r{};
    ///     r.slot = 3; r.guest_phys_addr = 0x8000'0000; r.memory_size = 0x1000;
    ///     r.userspace_addr = reinterpret_cast<std::uint64_t>(page);   // a page this process keeps mapped
    ///     return vm.set_user_memory_region2(r);
    ///
    /// Safety: as set_user_memory_region: the guest reads and writes what is mapped at
    /// `userspace_addr` until the slot is deleted or the VM destroyed.
    [[nodiscard]] Result<> set_user_memory_region2(const uapi::UserspaceMemoryRegion2& region) {
        if (auto missing = require(Cap::UserMemory2, "KVM_SET_USER_MEMORY_REGION2", "6.8"); !missing)
            return unexpected<Error>(std::move(missing).error());
        return set_region2(region.slot, region.guest_phys_addr, region.memory_size,
                           reinterpret_cast<std::uint8_t*>(region.userspace_addr), region.flags,
                           static_cast<int>(region.guest_memfd), region.guest_memfd_offset);
    }

    /// KVM_CREATE_GUEST_MEMFD (Linux 6.8, KVM_CAP_GUEST_MEMFD): `size` bytes of guest
    /// memory owned by this VM. `flags` must be among those KVM_CAP_GUEST_MEMFD_FLAGS
    /// (Linux 6.18) reports. A missing capability or flag fails naming it, before the ioctl.
    ///
    /// Example [create_guest_memfd], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto gmem = vm.create_guest_memfd(2 << 20, kvmxx::GuestMemfdFlags::Mmap);
    [[nodiscard]] Result<GuestMemfd> create_guest_memfd(std::uint64_t size, GuestMemfdFlags flags = GuestMemfdFlags::None) {
        if (auto missing = require(Cap::GuestMemfd, "KVM_CREATE_GUEST_MEMFD", "6.8"); !missing)
            return unexpected<Error>(std::move(missing).error());
        const auto want = static_cast<std::uint64_t>(flags);
        if (want != 0) {
            auto offered = check(Cap::GuestMemfdFlags);
            if (!offered) return unexpected<Error>(std::move(offered).error());
            const auto mask = static_cast<std::uint64_t>(static_cast<std::uint32_t>(*offered));
            if ((want & ~mask) != 0)
                return fail_with_hint("KVM_CREATE_GUEST_MEMFD", EOPNOTSUPP, "flags=" + trace::hex(want),
                                      "this VM offers guest_memfd flags " + trace::hex(mask) +
                                          " (KVM_CAP_GUEST_MEMFD_FLAGS, Linux 6.18; 0x1 is GUEST_MEMFD_FLAG_MMAP)");
        }
        uapi::CreateGuestMemfd c{};
        c.size = size;
        c.flags = want;
        auto fd = sys::ioctl(fd_.get(), uapi::create_guest_memfd, "KVM_CREATE_GUEST_MEMFD", &c,
                             [&] { return trace::Args().hex("size", size).hex("flags", want).take(); });
        if (!fd) {
            if (fd.error().errnum() != EINVAL) return unexpected<Error>(std::move(fd).error());
            return fail_with_hint("KVM_CREATE_GUEST_MEMFD", EINVAL, fd.error().detail(),
                                  "size must be a non-zero multiple of the page size (" + std::to_string(page_size()) + ")");
        }
        return GuestMemfd(UniqueFd(*fd), size, flags);
    }

    /// A slot at guest-physical [gpa, gpa+size) whose private pages come from `gmem` at
    /// `offset` (KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD), and whose shared
    /// pages come from `host` (which may be empty, or gmem.map() for a guest_memfd made
    /// with GuestMemfdFlags::Mmap). Tracked like add_memory's slots: remove_memory()
    /// deletes it, guest_span() reaches it through `host`.
    ///
    /// Safety: `host`, when given, is as add_user_memory's: mapped by the caller, for this
    /// guest, until the slot is removed. The slot holds its own reference to the
    /// guest_memfd file, so `gmem` may be closed first.
    [[nodiscard]] Result<MemoryRegion> add_guest_memfd_memory(std::uint64_t gpa, const GuestMemfd& gmem, std::uint64_t offset,
                                                              std::uint64_t size, std::span<std::uint8_t> host = {},
                                                              MemoryFlags flags = MemoryFlags::None) {
        if (auto missing = require(Cap::UserMemory2, "KVM_SET_USER_MEMORY_REGION2", "6.8"); !missing)
            return unexpected<Error>(std::move(missing).error());
        if (auto missing = require(Cap::GuestMemfd, "KVM_SET_USER_MEMORY_REGION2", "6.8"); !missing)
            return unexpected<Error>(std::move(missing).error());
        if (!gmem.valid())
            return fail_with_hint("KVM_SET_USER_MEMORY_REGION2", EBADF, "guest_memfd=-1",
                                  "the GuestMemfd is empty (default-constructed or moved from): make one with create_guest_memfd");
        if (auto bad = check_alignment(gpa, size, "KVM_SET_USER_MEMORY_REGION2")) return unexpected<Error>(std::move(*bad));
        if (!host.empty() && (host.size() < size || reinterpret_cast<std::uintptr_t>(host.data()) % page_size() != 0))
            return fail("KVM_SET_USER_MEMORY_REGION2", EINVAL,
                        trace::Args().hex("host_bytes", host.size()).hex("size", size).take() +
                            ": host memory must be page aligned and cover the slot");
        MemoryRegion region{free_slot(), gpa, size, host.empty() ? nullptr : host.data(), flags, gmem.fd(), offset};
        auto r = set_region2(region.slot, gpa, size, region.host, static_cast<std::uint32_t>(flags) | uapi::mem_guest_memfd,
                             gmem.fd(), offset);
        if (!r) return unexpected<Error>(std::move(r).error());
        slots_.push_back(Slot{region, Mapping()});
        return region;
    }

    /// KVM_SET_MEMORY_ATTRIBUTES (Linux 6.8, KVM_CAP_MEMORY_ATTRIBUTES on the VM): marks
    /// guest-physical [gpa, gpa+size) private (backed by its slot's guest_memfd) or shared
    /// (backed by the slot's userspace memory). A guest access that disagrees with the
    /// attribute ends KVM_RUN with exit::MemoryFault. Only VM types with private memory
    /// offer it (x86 KVM_X86_SW_PROTECTED_VM, SNP, TDX); elsewhere it fails naming the
    /// capability, before the ioctl.
    ///
    /// Example [set_memory_attributes], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     return vm.set_memory_attributes(0x8000'0000, 0x1000, kvmxx::MemoryAttribute::Private);
    [[nodiscard]] Result<> set_memory_attributes(std::uint64_t gpa, std::uint64_t size, MemoryAttribute attributes) {
        auto offered = require(Cap::MemoryAttributes, "KVM_SET_MEMORY_ATTRIBUTES", "6.8, x86 SW_PROTECTED/SNP/TDX VMs");
        if (!offered) return unexpected<Error>(std::move(offered).error());
        const auto want = static_cast<std::uint64_t>(attributes);
        const auto mask = static_cast<std::uint64_t>(static_cast<std::uint32_t>(*offered));
        if ((want & ~mask) != 0)
            return fail_with_hint("KVM_SET_MEMORY_ATTRIBUTES", EOPNOTSUPP, "attributes=" + trace::hex(want),
                                  "this VM offers memory attributes " + trace::hex(mask));
        uapi::MemoryAttributes a{};
        a.address = gpa;
        a.size = size;
        a.attributes = want;
        return sys::ioctl(fd_.get(), uapi::set_memory_attributes, "KVM_SET_MEMORY_ATTRIBUTES", &a, [&] {
                   return trace::Args().hex("gpa", gpa).hex("size", size).str("attributes", want ? "PRIVATE" : "SHARED").take();
               })
            .transform([](int) {})
            .transform_error([&](const Error& e) {
                if (e.errnum() != EINVAL) return e;
                return Error(e.operation(), e.errnum(), e.detail(),
                             "gpa and size must be non-zero multiples of the page size, without overflow");
            });
    }

    /// Host bytes for guest-physical [gpa, gpa+size), within one slot.
    ///
    /// Safety: the span is valid until remove_memory() of the slot or the Vm's
    /// destruction, and a running vCPU (or a device's DMA) may change its bytes at
    /// any moment: read a value the guest controls once, into a local, then check
    /// and use the copy, never the span again.
    [[nodiscard]] Result<std::span<std::uint8_t>> guest_span(std::uint64_t gpa, std::size_t size) const {
        for (const auto& s : slots_)
            if (s.region.host != nullptr && s.region.contains(gpa, size))
                return std::span<std::uint8_t>(s.region.host + (gpa - s.region.gpa), size);
        return fail("guest memory access", EFAULT,
                    trace::Args().hex("gpa", gpa).hex("size", size).take() + " is not inside one memory slot");
    }
    /// Copies `data` into guest memory at `gpa`.
    [[nodiscard]] Result<> write(std::uint64_t gpa, std::span<const std::uint8_t> data) const {
        return guest_span(gpa, data.size()).transform([&](std::span<std::uint8_t> dst) {
            if (!data.empty()) std::memcpy(dst.data(), data.data(), data.size());
        });
    }
    /// Copies guest memory at `gpa` into `out`.
    [[nodiscard]] Result<> read(std::uint64_t gpa, std::span<std::uint8_t> out) const {
        return guest_span(gpa, out.size()).transform([&](std::span<std::uint8_t> src) {
            if (!out.empty()) std::memcpy(out.data(), src.data(), out.size());
        });
    }

    /// Every slot this Vm registered.
    std::vector<MemoryRegion> memory_regions() const {
        std::vector<MemoryRegion> out;
        for (const auto& s : slots_) out.push_back(s.region);
        return out;
    }

    /// KVM_GET_DIRTY_LOG: pages written since the last call (slot needs LogDirtyPages).
    [[nodiscard]] Result<DirtyLog> dirty_log(std::uint32_t slot) const {
        auto it = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.region.slot == slot; });
        if (it == slots_.end())
            return fail("KVM_GET_DIRTY_LOG", ENOENT, "slot=" + std::to_string(slot) + " is not in use");
        DirtyLog log;
        log.slot = slot;
        log.gpa = it->region.gpa;
        log.page_size = page_size();
        log.bitmap.assign((it->region.size / log.page_size + 63) / 64, 0);
        kvm_dirty_log d{};
        d.slot = slot;
        d.dirty_bitmap = log.bitmap.data();
        auto r = sys::ioctl(fd_.get(), KVM_GET_DIRTY_LOG, "KVM_GET_DIRTY_LOG", &d,
                            [&] { return "slot=" + std::to_string(slot); });
        if (!r) return unexpected<Error>(std::move(r).error());
        return log;
    }

    /// KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2): from now on dirty_log() reports
    /// without clearing or write-protecting anything, and the pages are handed back to
    /// dirty tracking one by one with clear_dirty_log(). With `initially_set`, slots that
    /// start logging later report every page dirty until cleared (the kernel then need not
    /// write-protect the whole slot at once). Fails naming the capability (Linux 5.3) where
    /// the kernel lacks it.
    [[nodiscard]] Result<> enable_manual_dirty_log_protect(bool initially_set = false) {
        auto offered = check(Cap::ManualDirtyLogProtect2);
        if (!offered) return unexpected<Error>(std::move(offered).error());
        const std::uint64_t want =
            KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | (initially_set ? KVM_DIRTY_LOG_INITIALLY_SET : 0u);
        if (*offered <= 0)
            return fail_with_hint("KVM_ENABLE_CAP", EOPNOTSUPP, "cap=KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2",
                                  "this kernel lacks KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (added in Linux 5.3)");
        if ((want & ~static_cast<std::uint64_t>(*offered)) != 0)
            return fail_with_hint("KVM_ENABLE_CAP", EOPNOTSUPP,
                                  "cap=KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags=" + trace::hex(want),
                                  "the kernel offers only flags " + trace::hex(static_cast<std::uint64_t>(*offered)));
        return enable_cap(Cap::ManualDirtyLogProtect2, {&want, 1});
    }

    /// KVM_CLEAR_DIRTY_LOG: write-protects again, and clears in the kernel's log, exactly the
    /// pages set in `pages.bitmap` (all of slot `pages.slot`: first page 0), so that the
    /// next dirty_log() reports them only if the guest writes them again. Needs
    /// enable_manual_dirty_log_protect() (without it dirty_log() already clears).
    [[nodiscard]] Result<> clear_dirty_log(const DirtyLog& pages) {
        auto it = find_slot(pages.slot);
        if (it == slots_.end())
            return fail("KVM_CLEAR_DIRTY_LOG", ENOENT, "slot=" + std::to_string(pages.slot) + " is not in use");
        const std::uint64_t npages = it->region.size / page_size();
        if (pages.bitmap.size() < (npages + 63) / 64)
            return fail("KVM_CLEAR_DIRTY_LOG", EINVAL,
                        "slot=" + std::to_string(pages.slot) + ": bitmap of " + std::to_string(pages.bitmap.size()) +
                            " words for " + std::to_string(npages) + " pages");
        kvm_clear_dirty_log c{};
        c.slot = pages.slot;
        c.first_page = 0;
        c.num_pages = static_cast<std::uint32_t>(npages);
        // The kernel only reads the bitmap (copy_from_user); the field is not const in C.
        c.dirty_bitmap = const_cast<std::uint64_t*>(pages.bitmap.data());
        return sys::ioctl(fd_.get(), KVM_CLEAR_DIRTY_LOG, "KVM_CLEAR_DIRTY_LOG", &c, [&] {
                   return trace::Args().dec("slot", pages.slot).dec("first_page", 0).dec("num_pages", npages).take();
               })
            .transform([](int) {});
    }

    /// KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING_ACQ_REL, or KVM_CAP_DIRTY_LOG_RING where only
    /// that is offered): every vCPU created after this gets a ring of `bytes` (a power of
    /// two, at least a page, at most what the capability reports) that the kernel fills
    /// with the pages the guest dirties in slots with LogDirtyPages; harvest it with
    /// Vcpu::harvest_dirty_ring, then reset_dirty_rings(). Call it before the first vCPU.
    /// Where neither capability is offered it fails naming both and the kernels that
    /// added them (x86_64 Linux 5.11; arm64 Linux 6.3, acquire/release only).
    [[nodiscard]] Result<> enable_dirty_ring(std::uint32_t bytes) {
        if (vcpus_ > 0)
            return fail_with_hint("KVM_ENABLE_CAP", EINVAL, "cap=KVM_CAP_DIRTY_LOG_RING",
                                  "enable the dirty ring before the first vCPU (this VM has " + std::to_string(vcpus_) + ")");
        Cap cap = Cap::DirtyLogRingAcqRel;
        auto max = check(cap);
        if (!max) return unexpected<Error>(std::move(max).error());
        if (*max <= 0) {
            cap = Cap::DirtyLogRing;
            max = check(cap);
            if (!max) return unexpected<Error>(std::move(max).error());
        }
        if (*max <= 0)
            return fail_with_hint("KVM_ENABLE_CAP", EOPNOTSUPP, "cap=KVM_CAP_DIRTY_LOG_RING_ACQ_REL",
                                  "this kernel lacks KVM_CAP_DIRTY_LOG_RING_ACQ_REL and KVM_CAP_DIRTY_LOG_RING "
                                  "(added in Linux 5.11 on x86_64, 6.3 on arm64)");
        if (bytes > static_cast<std::uint32_t>(*max))
            return fail_with_hint("KVM_ENABLE_CAP", ERANGE,
                                  std::string("cap=") + cap_name(cap) + " bytes=" + std::to_string(bytes),
                                  "the kernel's largest dirty ring is " + std::to_string(*max) + " bytes");
        const std::uint64_t size = bytes;
        auto r = enable_cap(cap, {&size, 1});
        if (r) dirty_ring_bytes_ = bytes;
        return r;
    }

    /// KVM_RESET_DIRTY_RINGS: the kernel takes back every ring entry marked harvested (in
    /// all vCPUs' rings) and write-protects those pages again. Returns how many it reset.
    [[nodiscard]] Result<std::uint32_t> reset_dirty_rings() {
        return sys::ioctl(fd_.get(), KVM_RESET_DIRTY_RINGS, "KVM_RESET_DIRTY_RINGS", 0UL)
            .transform([](int n) { return static_cast<std::uint32_t>(n); });
    }

    /// The size of each vCPU's dirty ring in bytes (0: enable_dirty_ring was not called).
    std::uint32_t dirty_ring_bytes() const noexcept { return dirty_ring_bytes_; }

    /// KVM_GET_STATS_FD on the VM: its statistics ("remote_tlb_flush", ...) by name.
    /// Fails with one line naming KVM_CAP_BINARY_STATS_FD (Linux 5.14) where it is absent.
    [[nodiscard]] Result<StatsFd> stats() const { return detail::get_stats_fd(fd_.get(), "vm"); }

    // ---- vCPUs and devices --------------------------------------------------

    /// A vCPU that can run: KVM_CREATE_VCPU, then maps its kvm_run page; on arm64 also
    /// KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT with no optional features (an arm64
    /// vCPU can do nothing, not even take a register, before it is initialised). To
    /// choose features use create_vcpu(id, features); an initialised vCPU's features
    /// cannot change.
    ///
    /// Example [create_vcpu], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto cpu = vm.create_vcpu(0);
    [[nodiscard]] Result<Vcpu> create_vcpu(std::uint32_t id) {
#if KVMXX_ARCH_ARM64
        return create_vcpu(id, arm64::VcpuFeatures{});
#else
        return create_uninitialized_vcpu(id);
#endif
    }

    /// KVM_CREATE_VCPU and the kvm_run mapping only. On arm64 the caller must call
    /// Vcpu::init before anything else; elsewhere this is create_vcpu(id).
    [[nodiscard]] Result<Vcpu> create_uninitialized_vcpu(std::uint32_t id) {
        auto fd = sys::ioctl(fd_.get(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU", static_cast<unsigned long>(id),
                             [&] { return "vcpu_id=" + std::to_string(id); });
        if (!fd) return unexpected<Error>(std::move(fd).error());
        UniqueFd owned(*fd);
        ++vcpus_;  // the kernel's vCPU exists now, whatever happens to the mapping
        auto page = Mapping::of_fd(owned.get(), run_size_, 0);
        if (!page) return unexpected<Error>(std::move(page).error());
        Vcpu cpu(std::move(owned), id, std::move(*page));
        if (dirty_ring_bytes_ > 0) {
            auto ring = Mapping::of_fd(cpu.fd(), dirty_ring_bytes_, uapi::dirty_log_page_offset * page_size());
            if (!ring) return unexpected<Error>(std::move(ring).error());
            cpu.ring_ = std::move(*ring);
        }
#if KVMXX_ARCH_X86_64 && defined(KVM_CAP_XSAVE2)
        if (auto bytes = check(Cap::Xsave2); bytes && *bytes > static_cast<int>(XsaveArea::legacy_size))
            cpu.xsave_size_ = static_cast<std::size_t>(*bytes);
#endif
        return cpu;
    }

#if KVMXX_ARCH_ARM64
    /// KVM_ARM_PREFERRED_TARGET with `features` applied: the argument for Vcpu::init.
    [[nodiscard]] Result<kvm_vcpu_init> preferred_target(const arm64::VcpuFeatures& features = {}) const {
        kvm_vcpu_init init{};
        auto r = sys::ioctl(fd_.get(), KVM_ARM_PREFERRED_TARGET, "KVM_ARM_PREFERRED_TARGET", &init);
        if (!r) return unexpected<Error>(std::move(r).error());
        features.apply(init);
        return init;
    }

    /// The arm64 one-liner: KVM_CREATE_VCPU + KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT.
    ///
    /// Example [secondary_vcpu], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto cpu1 = vm.create_vcpu(1, {.power_off = true});   // waits for PSCI CPU_ON
    [[nodiscard]] Result<Vcpu> create_vcpu(std::uint32_t id, const arm64::VcpuFeatures& features) {
        auto init = preferred_target(features);
        if (!init) return unexpected<Error>(std::move(init).error());
        auto cpu = create_uninitialized_vcpu(id);
        if (!cpu) return cpu;
        auto r = cpu->init(*init, features.sve_lengths);
        if (!r) return unexpected<Error>(std::move(r).error());
        return cpu;
    }
#endif

    /// How many vCPUs this Vm created (the VGIC must come after all of them).
    std::uint32_t vcpu_count() const noexcept { return vcpus_; }

    /// KVM_CREATE_DEVICE: an in-kernel device (VGIC, ITS, VFIO pseudo-device).
    [[nodiscard]] Result<Device> create_device(std::uint32_t type, std::uint32_t flags = 0) {
        kvm_create_device d{};  // the kernel writes the new fd into d.fd
        d.type = type;
        d.flags = flags;
        auto r = sys::ioctl(fd_.get(), KVM_CREATE_DEVICE, "KVM_CREATE_DEVICE", &d,
                            [&] { return trace::Args().str("type", device_type_name(type)).dec("flags", flags).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        return Device(UniqueFd(static_cast<int>(d.fd)), type);
    }

    // ---- interrupts ---------------------------------------------------------

    /// KVM_IRQFD: when `source` is signalled, inject GSI `gsi` (edge).
    ///
    /// Example [irqfd_spi], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     return vm.irqfd(eventfd, kvmxx::arm64::spi_gsi(7));
    [[nodiscard]] Result<> irqfd(const EventSource auto& source, std::uint32_t gsi) {
        return irqfd_raw(source.event_fd(), gsi, 0, -1);
    }
    /// KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE: level-triggered. The line stays
    /// asserted until the guest EOIs; then KVM signals `resample`, which is the
    /// moment to re-enable the device's interrupt (VFIO's INTx unmask eventfd).
    [[nodiscard]] Result<> irqfd(const EventSource auto& source, std::uint32_t gsi, const EventSource auto& resample) {
        return irqfd_raw(source.event_fd(), gsi, KVM_IRQFD_FLAG_RESAMPLE, resample.event_fd());
    }
    /// KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN: stop routing `source` to `gsi`.
    [[nodiscard]] Result<> remove_irqfd(const EventSource auto& source, std::uint32_t gsi) {
        return irqfd_raw(source.event_fd(), gsi, KVM_IRQFD_FLAG_DEASSIGN, -1);
    }

    /// KVM_IOEVENTFD: a guest write to `where` signals `sink` inside the kernel, without a vCPU exit.
    ///
    /// Example [ioeventfd], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto wired = vm.ioeventfd(*doorbell, {.address = 0x0a00'0000, .length = 4, .datamatch = 1});
    [[nodiscard]] Result<> ioeventfd(const EventSource auto& sink, const IoEvent& where) {
        return ioeventfd_raw(sink.event_fd(), where, 0);
    }
    /// KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DEASSIGN.
    [[nodiscard]] Result<> remove_ioeventfd(const EventSource auto& sink, const IoEvent& where) {
        return ioeventfd_raw(sink.event_fd(), where, KVM_IOEVENTFD_FLAG_DEASSIGN);
    }

    /// KVM_SET_GSI_ROUTING: replaces the whole routing table with `route`.
    [[nodiscard]] Result<> set_routes(const IrqRoute& route) {
        auto table = route.prepare(supports_msi_devid());
        return sys::ioctl(fd_.get(), uapi::set_gsi_routing, "KVM_SET_GSI_ROUTING", table.arg(), [&] {
                   return trace::Args().dec("entries", route.size()).take();
               })
            .transform([](int) {})
            .transform_error([&](const Error& e) { return irq_error(e); });
    }

    /// KVM_SIGNAL_MSI: injects one MSI now. True when delivered, false when the guest blocked it.
    [[nodiscard]] Result<bool> signal_msi(const Msi& msi) {
        kvm_msi m{};
        m.address_lo = static_cast<std::uint32_t>(msi.address);
        m.address_hi = static_cast<std::uint32_t>(msi.address >> 32);
        m.data = msi.data;
        if (msi.devid && supports_msi_devid()) {
            m.flags = KVM_MSI_VALID_DEVID;
            m.devid = *msi.devid;
        }
        return sys::ioctl(fd_.get(), KVM_SIGNAL_MSI, "KVM_SIGNAL_MSI", &m, [&] {
                   return trace::Args().hex("address", msi.address).hex("data", msi.data).take();
               })
            .transform([](int delivered) { return delivered > 0; })
            .transform_error([&](const Error& e) { return irq_error(e); });
    }

    /// KVM_IRQ_LINE: drive an interrupt line (arm64: see arm64::irq_line_spi for `irq`).
    [[nodiscard]] Result<> irq_line(std::uint32_t irq, bool level) {
        kvm_irq_level l{};
        l.irq = irq;
        l.level = level ? 1 : 0;
        return sys::ioctl(fd_.get(), KVM_IRQ_LINE, "KVM_IRQ_LINE", &l,
                          [&] { return trace::Args().hex("irq", irq).dec("level", l.level).take(); })
            .transform([](int) {})
            .transform_error([&](const Error& e) { return irq_error(e); });
    }

#if KVMXX_ARCH_X86_64
    // ---- x86: in-kernel PIC, IOAPIC and LAPIC, PIT, real-mode helpers, clock ----

    /// KVM_CREATE_IRQCHIP: the in-kernel interrupt controllers, two 8259 PICs, an IOAPIC
    /// and a LAPIC per vCPU, with the default routing (GSI 0-15 → PIC and IOAPIC pins,
    /// GSI 16-23 → IOAPIC pins). irqfd, routing, KVM_IRQ_LINE and MSIs need it (or the
    /// split irqchip). Call it before the first vCPU.
    ///
    /// Example [x86_irqchip], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     if (auto r = vm.create_irqchip(); !r) return r;
    ///     return vm.irqfd(*eventfd, 5);          // → PIC IRQ 5 (and IOAPIC pin 5)
    [[nodiscard]] Result<> create_irqchip() {
        auto r = sys::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP", 0UL);
        if (!r) return unexpected<Error>(irqchip_setup_error(r.error()));
        irqchip_ = IrqchipMode::Full;
        return {};
    }

    /// KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): only the LAPICs in the kernel; the PIC and
    /// IOAPIC are userspace's (their ports and MMIO exit). The first `ioapic_routes` GSIs
    /// are the userspace IOAPIC's: their EOIs exit as KVM_EXIT_IOAPIC_EOI. MSIs and MSI
    /// routes reach the in-kernel LAPICs. Call it before the first vCPU.
    [[nodiscard]] Result<> enable_split_irqchip(std::uint32_t ioapic_routes = KVM_IOAPIC_NUM_PINS) {
        const std::uint64_t routes = ioapic_routes;
        auto r = enable_cap(Cap::SplitIrqchip, {&routes, 1});
        if (!r) return unexpected<Error>(irqchip_setup_error(r.error()));
        return r;
    }

    /// KVM_GET_IRQCHIP: the state of one in-kernel PIC (`.chip.pic`) or the IOAPIC
    /// (`.chip.ioapic`). Needs create_irqchip() (a split irqchip has none in the kernel).
    [[nodiscard]] Result<kvm_irqchip> irqchip(x86::Irqchip chip) const {
        kvm_irqchip state{};
        state.chip_id = static_cast<std::uint32_t>(chip);
        auto r = sys::ioctl(fd_.get(), KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &state,
                            [&] { return std::string("chip=") + x86::irqchip_name(chip); });
        if (!r) return unexpected<Error>(irq_error(r.error()));
        return state;
    }

    /// KVM_SET_IRQCHIP: replaces the state of the chip `state.chip_id` names (e.g. a
    /// kvm_irqchip from irqchip(), changed, or saved before migration).
    [[nodiscard]] Result<> set_irqchip(const kvm_irqchip& state) {
        return sys::ioctl(fd_.get(), KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &state, [&] {
                   return std::string("chip=") + x86::irqchip_name(static_cast<x86::Irqchip>(state.chip_id));
               })
            .transform([](int) {})
            .transform_error([&](const Error& e) { return irq_error(e); });
    }

    /// KVM_CREATE_PIT2: the in-kernel i8254 timer at ports 0x40-0x43, wired to IRQ 0 of the
    /// in-kernel PIC and IOAPIC (so create_irqchip() first). With KVM_PIT_SPEAKER_DUMMY
    /// (the default) the kernel also answers the speaker port 0x61 with a stub.
    [[nodiscard]] Result<> create_pit2(std::uint32_t flags = KVM_PIT_SPEAKER_DUMMY) {
        kvm_pit_config c{};
        c.flags = flags;
        auto r = sys::ioctl(fd_.get(), KVM_CREATE_PIT2, "KVM_CREATE_PIT2", &c,
                            [&] { return trace::Args().hex("flags", flags).take(); });
        if (!r) return unexpected<Error>(pit_error(r.error()));
        return {};
    }

    /// KVM_GET_PIT2: the in-kernel PIT's three channels and flags (needs create_pit2()).
    [[nodiscard]] Result<kvm_pit_state2> pit2() const {
        kvm_pit_state2 state{};
        auto r = sys::ioctl(fd_.get(), KVM_GET_PIT2, "KVM_GET_PIT2", &state);
        if (!r) return unexpected<Error>(pit_error(r.error()));
        return state;
    }

    /// KVM_SET_PIT2: replaces the in-kernel PIT's state; each channel's count is reloaded.
    [[nodiscard]] Result<> set_pit2(const kvm_pit_state2& state) {
        return sys::ioctl(fd_.get(), KVM_SET_PIT2, "KVM_SET_PIT2", &state)
            .transform([](int) {})
            .transform_error([&](const Error& e) { return pit_error(e); });
    }

    /// KVM_SET_TSS_ADDR: three pages of guest-physical space, below 4 GiB and used for
    /// nothing else, where Intel VMX keeps the TSS it needs to run real mode without
    /// unrestricted guest support. AMD SVM accepts and ignores it.
    [[nodiscard]] Result<> set_tss_addr(std::uint64_t gpa) {
        return sys::ioctl(fd_.get(), KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR", static_cast<unsigned long>(gpa),
                          [&] { return trace::Args().hex("addr", gpa).take(); })
            .transform([](int) {})
            .transform_error([&](const Error& e) {
                if (e.errnum() != EINVAL) return e;
                return Error(e.operation(), e.errnum(), e.detail(),
                             "the three TSS pages must lie below 4 GiB: addr at most 0xffffd000 (QEMU uses 0xfffbd000)");
            });
    }

    /// KVM_SET_IDENTITY_MAP_ADDR: one page of guest-physical space for Intel VMX's
    /// real-mode identity page table (default 0xfffbc000). Call it before the first vCPU.
    [[nodiscard]] Result<> set_identity_map_addr(std::uint64_t gpa) {
        const std::uint64_t addr = gpa;
        return sys::ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, "KVM_SET_IDENTITY_MAP_ADDR", &addr,
                          [&] { return trace::Args().hex("addr", gpa).take(); })
            .transform([](int) {})
            .transform_error([&](const Error& e) {
                if (e.errnum() != EINVAL || vcpus_ == 0) return e;
                return Error(e.operation(), e.errnum(), e.detail(),
                             "set the identity map address before the first vCPU (this VM has " +
                                 std::to_string(vcpus_) + ")");
            });
    }

    /// KVM_GET_CLOCK: the VM's kvmclock in nanoseconds; `flags` says which of the other
    /// fields are valid (KVM_CLOCK_TSC_STABLE, KVM_CLOCK_REALTIME, KVM_CLOCK_HOST_TSC).
    [[nodiscard]] Result<kvm_clock_data> clock() const {
        kvm_clock_data data{};
        auto r = sys::ioctl(fd_.get(), KVM_GET_CLOCK, "KVM_GET_CLOCK", &data);
        if (!r) return unexpected<Error>(std::move(r).error());
        return data;
    }

    /// KVM_SET_CLOCK: sets the kvmclock to `data.clock` ns (e.g. the value clock() read
    /// before migration); with KVM_CLOCK_REALTIME the time since `data.realtime` is added.
    [[nodiscard]] Result<> set_clock(const kvm_clock_data& data) {
        return sys::ioctl(fd_.get(), KVM_SET_CLOCK, "KVM_SET_CLOCK", &data, [&] {
                   return trace::Args().dec("clock", data.clock).hex("flags", data.flags).take();
               })
            .transform([](int) {});
    }
#endif

    // ---- capabilities -------------------------------------------------------

    /// KVM_CHECK_EXTENSION on the VM (KVM_CAP_CHECK_EXTENSION_VM): 0 when absent.
    [[nodiscard]] Result<int> check(Cap cap) const {
        return sys::ioctl(fd_.get(), KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION", static_cast<unsigned long>(cap),
                          [&] { return std::string("cap=") + cap_name(cap); });
    }
    /// KVM_ENABLE_CAP on the VM with up to four arguments.
    [[nodiscard]] Result<> enable_cap(Cap cap, std::span<const std::uint64_t> args = {}) {
        kvm_enable_cap c{};
        c.cap = static_cast<std::uint32_t>(cap);
        if (args.size() > std::size(c.args))
            return fail("KVM_ENABLE_CAP", EINVAL, std::string("cap=") + cap_name(cap) + ": " + std::to_string(args.size()) +
                                                      " arguments given, kvm_enable_cap has 4");
        for (std::size_t i = 0; i < args.size(); ++i) c.args[i] = args[i];
        return sys::ioctl(fd_.get(), KVM_ENABLE_CAP, "KVM_ENABLE_CAP", &c,
                          [&] { return std::string("cap=") + cap_name(cap); })
            .transform([&](int) {
                if (cap == Cap::SplitIrqchip) irqchip_ = IrqchipMode::Split;
            });
    }

    int fd() const noexcept { return fd_.get(); }        ///< the raw VM fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }  ///< holds a VM fd (not default/moved-from)

    /// The host page size, the alignment slots need (sysconf(_SC_PAGESIZE)).
    static std::uint64_t page_size() noexcept { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

private:
    struct Slot {
        MemoryRegion region;
        Mapping owned;  // empty for caller-owned memory
    };

    std::optional<Error> check_alignment(std::uint64_t gpa, std::uint64_t size,
                                         const char* op = "KVM_SET_USER_MEMORY_REGION") const {
        const auto page = page_size();
        if (size == 0 || gpa % page != 0 || size % page != 0)
            return Error(op, EINVAL,
                         trace::Args().hex("gpa", gpa).hex("size", size).take(),
                         "gpa and size must be non-zero multiples of the page size (" + std::to_string(page) + ")");
        return std::nullopt;
    }

    std::uint32_t free_slot() const noexcept {
        std::uint32_t n = 0;
        while (std::any_of(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.region.slot == n; })) ++n;
        return n;
    }

    std::vector<Slot>::iterator find_slot(std::uint32_t slot) {
        return std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.region.slot == slot; });
    }

    [[nodiscard]] Result<MemoryRegion> register_slot(std::uint64_t gpa, std::uint64_t size, std::uint8_t* host, MemoryFlags flags,
                                       Mapping owned) {
        MemoryRegion region{free_slot(), gpa, size, host, flags};
        auto r = set_region(region.slot, gpa, size, host, static_cast<std::uint32_t>(flags));
        if (!r) return unexpected<Error>(std::move(r).error());  // `owned` unmaps itself
        slots_.push_back(Slot{region, std::move(owned)});
        return region;
    }

    [[nodiscard]] Result<> set_region(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, std::uint8_t* host,
                        std::uint32_t flags) {
        kvm_userspace_memory_region m{};
        m.slot = slot;
        m.flags = flags;
        m.guest_phys_addr = gpa;
        m.memory_size = size;
        m.userspace_addr = reinterpret_cast<std::uint64_t>(host);
        return sys::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION", &m, [&] {
                   return trace::Args().dec("slot", slot).hex("gpa", gpa).hex("size", size).hex("flags", flags).take();
               })
            .transform([](int) {});
    }

    [[nodiscard]] Result<> set_region2(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, std::uint8_t* host,
                                       std::uint32_t flags, int guest_memfd, std::uint64_t guest_memfd_offset) {
        uapi::UserspaceMemoryRegion2 m{};
        m.slot = slot;
        m.flags = flags;
        m.guest_phys_addr = gpa;
        m.memory_size = size;
        m.userspace_addr = reinterpret_cast<std::uint64_t>(host);
        if (flags & uapi::mem_guest_memfd) {
            m.guest_memfd = static_cast<std::uint32_t>(guest_memfd);
            m.guest_memfd_offset = guest_memfd_offset;
        }
        return sys::ioctl(fd_.get(), uapi::set_user_memory_region2, "KVM_SET_USER_MEMORY_REGION2", &m, [&] {
                   trace::Args a;
                   a.dec("slot", slot).hex("gpa", gpa).hex("size", size).hex("flags", flags);
                   if (flags & uapi::mem_guest_memfd)
                       a.dec("guest_memfd", static_cast<std::uint64_t>(guest_memfd)).hex("offset", guest_memfd_offset);
                   return a.take();
               })
            .transform([](int) {})
            .transform_error([&](const Error& e) {
                const char* hint = e.errnum() == EEXIST ? "the range overlaps an existing memory slot: remove that slot first or choose another GPA"
                                   : e.errnum() == EINVAL
                                       ? "gpa, size, host address and guest_memfd offset must be page aligned, the offset "
                                         "plus size within the guest_memfd, the guest_memfd this VM's and its range in no other slot"
                                       : nullptr;
                return hint ? Error(e.operation(), e.errnum(), e.detail(), hint) : e;
            });
    }

    /// KVM_CHECK_EXTENSION(cap) on the VM; where it reports 0, the one-line error of `op`
    /// naming the capability and the kernel that added it (EOPNOTSUPP), before any ioctl.
    [[nodiscard]] Result<int> require(Cap cap, const char* op, const char* since) const {
        auto r = check(cap);
        if (!r) return r;
        if (*r <= 0)
            return fail_with_hint(op, EOPNOTSUPP, std::string("cap=") + cap_name(cap),
                                  std::string("this VM lacks ") + cap_name(cap) + " (added in Linux " + since + ")");
        return r;
    }

    void remove_all_slots() noexcept {
        if (fd_.valid())
            for (const auto& s : slots_) (void)set_region(s.region.slot, s.region.gpa, 0, nullptr, 0);
        slots_.clear();
    }

    [[nodiscard]] Result<> irqfd_raw(int fd, std::uint32_t gsi, std::uint32_t flags, int resample_fd) {
        kvm_irqfd a{};
        a.fd = static_cast<std::uint32_t>(fd);
        a.gsi = gsi;
        a.flags = flags;
        if (resample_fd >= 0) a.resamplefd = static_cast<std::uint32_t>(resample_fd);
        return sys::ioctl(fd_.get(), KVM_IRQFD, "KVM_IRQFD", &a, [&] {
                   trace::Args t;
                   t.dec("fd", static_cast<std::uint64_t>(fd)).dec("gsi", gsi);
                   if (flags & KVM_IRQFD_FLAG_DEASSIGN) t.str("flags", "DEASSIGN");
                   if (flags & KVM_IRQFD_FLAG_RESAMPLE)
                       t.str("flags", "RESAMPLE").dec("resamplefd", static_cast<std::uint64_t>(resample_fd));
                   return t.take();
               })
            .transform([](int) {})
            .transform_error([&](const Error& e) { return irq_error(e, (flags & KVM_IRQFD_FLAG_RESAMPLE) != 0); });
    }

    [[nodiscard]] Result<> ioeventfd_raw(int fd, const IoEvent& where, std::uint32_t flags) {
        kvm_ioeventfd a{};
        a.fd = fd;
        a.addr = where.address;
        a.len = where.length;
        a.flags = flags;
        if (where.space == IoEvent::Space::Pio) a.flags |= KVM_IOEVENTFD_FLAG_PIO;
        if (where.datamatch) {
            a.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
            a.datamatch = *where.datamatch;
        }
        return sys::ioctl(fd_.get(), KVM_IOEVENTFD, "KVM_IOEVENTFD", &a, [&] {
                   trace::Args t;
                   t.dec("fd", static_cast<std::uint64_t>(fd))
                       .str("space", where.space == IoEvent::Space::Pio ? "pio" : "mmio")
                       .hex("addr", where.address)
                       .dec("len", where.length);
                   if (where.datamatch) t.hex("datamatch", *where.datamatch);
                   if (flags & KVM_IOEVENTFD_FLAG_DEASSIGN) t.str("flags", "DEASSIGN");
                   return t.take();
               })
            .transform([](int) {});
    }

    /// On x86 the interrupt ioctls (KVM_IRQFD, KVM_SET_GSI_ROUTING, KVM_IRQ_LINE,
    /// KVM_SIGNAL_MSI, KVM_GET/SET_IRQCHIP) fail with EINVAL or ENXIO on a VM without the
    /// in-kernel irqchip: then the hint says so. Elsewhere `e` is returned as it is.
    Error irq_error(const Error& e, [[maybe_unused]] bool resample = false) const {
#if KVMXX_ARCH_X86_64
        if (e.errnum() != EINVAL && e.errnum() != ENXIO) return e;
        const bool state_op = std::string_view(e.operation()).ends_with("_IRQCHIP");
        if (irqchip_ == IrqchipMode::None)
            return Error(e.operation(), e.errnum(), e.detail(),
                         "this VM has no in-kernel irqchip (the x86 PIC, IOAPIC and LAPIC that irqfds, "
                         "GSI routes, IRQ lines and MSIs go through): call create_irqchip() "
                         "(KVM_CREATE_IRQCHIP) first, before the first vCPU");
        if (irqchip_ == IrqchipMode::Split && (resample || state_op))
            return Error(e.operation(), e.errnum(), e.detail(),
                         std::string(resample ? "a resample irqfd" : "the in-kernel PIC and IOAPIC state") +
                             " needs the full in-kernel irqchip (create_irqchip()); with the split irqchip "
                             "the PIC and IOAPIC are userspace's");
#endif
        return e;
    }

#if KVMXX_ARCH_X86_64
    /// KVM_CREATE_IRQCHIP and the split irqchip: what the kernel's EINVAL and EEXIST mean.
    Error irqchip_setup_error(const Error& e) const {
        if (e.errnum() == EEXIST)
            return Error(e.operation(), e.errnum(), e.detail(),
                         "this VM already has an in-kernel irqchip (full or split): create one, once");
        if (e.errnum() == EINVAL && vcpus_ > 0)
            return Error(e.operation(), e.errnum(), e.detail(),
                         "create the irqchip before the first vCPU (this VM has " + std::to_string(vcpus_) + ")");
        return e;
    }

    /// The PIT ioctls: ENXIO is "no PIT yet", EEXIST "one already", ENOENT "no PIC for it".
    static Error pit_error(const Error& e) {
        const char* hint = e.errnum() == ENXIO    ? "this VM has no in-kernel PIT: call create_pit2() first"
                           : e.errnum() == EEXIST ? "this VM already has an in-kernel PIT"
                           : e.errnum() == ENOENT ? "the in-kernel PIT needs the in-kernel PIC: call create_irqchip() first"
                                                  : nullptr;
        return hint ? Error(e.operation(), e.errnum(), e.detail(), hint) : e;
    }
#endif

    bool supports_msi_devid() {
        if (msi_devid_ < 0) {
            auto r = check(Cap::MsiDevid);
            msi_devid_ = (r && *r > 0) ? 1 : 0;
        }
        return msi_devid_ == 1;
    }

    UniqueFd fd_;
    std::size_t run_size_ = 0;
    std::vector<Slot> slots_;
    std::uint32_t vcpus_ = 0;
    int msi_devid_ = -1;  // KVM_CAP_MSI_DEVID, asked once
    enum class IrqchipMode { None, Full, Split };
    IrqchipMode irqchip_ = IrqchipMode::None;  // what create_irqchip() / enable_cap(SplitIrqchip) made
    std::uint32_t dirty_ring_bytes_ = 0;       // what enable_dirty_ring() enabled
};

KVMXX_END_NAMESPACE
