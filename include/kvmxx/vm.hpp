// kvmxx/vm.hpp — `Vm`: one virtual machine, its memory, vCPUs and interrupt wiring.
//
//     auto vm   = kvm.create_vm();                          // KVM_CREATE_VM
//     auto ram  = vm->add_memory(0x4000'0000, 16 << 20);    // mmap + KVM_SET_USER_MEMORY_REGION
//     auto cpu  = vm->create_vcpu(0);                       // KVM_CREATE_VCPU + mmap(kvm_run)
//     auto irq  = kvmxx::EventFd::create();
//     vm->irqfd(*irq, 5);                                   // KVM_IRQFD: irq fires → GSI 5
//
// Memory safety rule: guest RAM the Vm allocated is unmapped only after its
// slot is removed from KVM, and the destructor removes every slot first, so a
// guest can never reach host memory that was freed and reused.
#pragma once

#include "concepts.hpp"
#include "config.hpp"
#include "device.hpp"
#include "error.hpp"
#include "ioctl.hpp"
#include "irq_route.hpp"
#include "kvm_cap.hpp"
#include "mapping.hpp"
#include "trace.hpp"
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
#include <vector>

KVMXX_BEGIN_NAMESPACE

/// KVM_MEM_* flags of a memory slot.
enum class MemoryFlags : std::uint32_t {
    None = 0,
    LogDirtyPages = KVM_MEM_LOG_DIRTY_PAGES,  ///< track guest writes for dirty_log()
    ReadOnly = KVM_MEM_READONLY,              ///< guest writes become MMIO exits
};
constexpr MemoryFlags operator|(MemoryFlags a, MemoryFlags b) noexcept {
    return static_cast<MemoryFlags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}

/// One memory slot: guest-physical [gpa, gpa+size) backed by host bytes.
/// A view: valid while the slot exists in its Vm.
struct MemoryRegion {
    std::uint32_t slot = 0;
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    std::uint8_t* host = nullptr;
    MemoryFlags flags = MemoryFlags::None;

    std::span<std::uint8_t> bytes() const noexcept { return {host, size}; }
    bool contains(std::uint64_t addr, std::uint64_t len) const noexcept {
        return addr >= gpa && len <= size && addr - gpa <= size - len;
    }
};

/// Where an ioeventfd listens: an MMIO or port address, a width, and optionally a value.
struct IoEvent {
    enum class Space { Mmio, Pio };
    Space space = Space::Mmio;
    std::uint64_t address = 0;
    std::uint32_t length = 4;  ///< 1, 2, 4 or 8; 0 matches any width (MMIO only)
    std::optional<std::uint64_t> datamatch = std::nullopt;  ///< signal only when the guest writes this value
};

/// The pages of one slot the guest wrote since the last read (KVM_GET_DIRTY_LOG).
struct DirtyLog {
    std::uint64_t gpa = 0;
    std::uint64_t page_size = 0;
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

class Vm {
public:
    Vm() = default;
    Vm(UniqueFd fd, std::size_t vcpu_mmap_size) noexcept : fd_(std::move(fd)), run_size_(vcpu_mmap_size) {}

    Vm(Vm&&) noexcept = default;
    Vm& operator=(Vm&& other) noexcept {
        if (this != &other) {
            remove_all_slots();
            fd_ = std::move(other.fd_);
            slots_ = std::move(other.slots_);
            run_size_ = other.run_size_;
            vcpus_ = other.vcpus_;
            msi_devid_ = other.msi_devid_;
        }
        return *this;
    }
    ~Vm() { remove_all_slots(); }

    // ---- memory -------------------------------------------------------------

    /// Allocates `size` bytes of zeroed anonymous memory and maps it at guest
    /// physical `gpa` (KVM_SET_USER_MEMORY_REGION). Both must be page aligned.
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

    /// Maps host memory the caller owns (e.g. a VFIO BAR mmap) at `gpa`. The
    /// caller keeps `host` mapped until remove_memory() or the Vm's destruction.
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
        auto r = set_region(slot, g.gpa, g.size, g.host, static_cast<std::uint32_t>(flags));
        if (r) g.flags = flags;
        return r;
    }

    /// KVM_SET_USER_MEMORY_REGION, raw: nothing is tracked or freed by the Vm.
    [[nodiscard]] Result<> set_user_memory_region(const kvm_userspace_memory_region& region) {
        return set_region(region.slot, region.guest_phys_addr, region.memory_size,
                          reinterpret_cast<std::uint8_t*>(region.userspace_addr), region.flags);
    }

    /// Host bytes for guest-physical [gpa, gpa+size), within one slot.
    [[nodiscard]] Result<std::span<std::uint8_t>> guest_span(std::uint64_t gpa, std::size_t size) const {
        for (const auto& s : slots_)
            if (s.region.contains(gpa, size)) return std::span<std::uint8_t>(s.region.host + (gpa - s.region.gpa), size);
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

    // ---- vCPUs and devices --------------------------------------------------

    /// KVM_CREATE_VCPU, then maps its kvm_run page.
    [[nodiscard]] Result<Vcpu> create_vcpu(std::uint32_t id) {
        auto fd = sys::ioctl(fd_.get(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU", static_cast<unsigned long>(id),
                             [&] { return "vcpu_id=" + std::to_string(id); });
        if (!fd) return unexpected<Error>(std::move(fd).error());
        UniqueFd owned(*fd);
        auto page = Mapping::of_fd(owned.get(), run_size_, 0);
        if (!page) return unexpected<Error>(std::move(page).error());
        ++vcpus_;
        return Vcpu(std::move(owned), id, std::move(*page));
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
    ///     auto cpu1 = vm.create_vcpu(1, {.power_off = true});   // waits for PSCI CPU_ON
    [[nodiscard]] Result<Vcpu> create_vcpu(std::uint32_t id, const arm64::VcpuFeatures& features) {
        auto init = preferred_target(features);
        if (!init) return unexpected<Error>(std::move(init).error());
        auto cpu = create_vcpu(id);
        if (!cpu) return cpu;
        auto r = cpu->init(*init);
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
    ///     vm.irqfd(eventfd, kvmxx::arm64::spi_gsi(5));
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
    ///     vm.ioeventfd(doorbell, {.address = 0x0a00'0000, .length = 4, .datamatch = 1});
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
            .transform([](int) {});
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
            .transform([](int delivered) { return delivered > 0; });
    }

    /// KVM_IRQ_LINE: drive an interrupt line (arm64: see arm64::irq_line_spi for `irq`).
    [[nodiscard]] Result<> irq_line(std::uint32_t irq, bool level) {
        kvm_irq_level l{};
        l.irq = irq;
        l.level = level ? 1 : 0;
        return sys::ioctl(fd_.get(), KVM_IRQ_LINE, "KVM_IRQ_LINE", &l,
                          [&] { return trace::Args().hex("irq", irq).dec("level", l.level).take(); })
            .transform([](int) {});
    }

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
        for (std::size_t i = 0; i < args.size() && i < 4; ++i) c.args[i] = args[i];
        return sys::ioctl(fd_.get(), KVM_ENABLE_CAP, "KVM_ENABLE_CAP", &c,
                          [&] { return std::string("cap=") + cap_name(cap); })
            .transform([](int) {});
    }

    int fd() const noexcept { return fd_.get(); }
    bool valid() const noexcept { return fd_.valid(); }

    static std::uint64_t page_size() noexcept { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

private:
    struct Slot {
        MemoryRegion region;
        Mapping owned;  // empty for caller-owned memory
    };

    std::optional<Error> check_alignment(std::uint64_t gpa, std::uint64_t size) const {
        const auto page = page_size();
        if (size == 0 || gpa % page != 0 || size % page != 0)
            return Error("KVM_SET_USER_MEMORY_REGION", EINVAL,
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
            .transform([](int) {});
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
};

KVMXX_END_NAMESPACE
