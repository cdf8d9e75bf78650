// kvmxx/vfio/device.hpp — `VfioDevice`, the owner of one device fd from
// VFIO_GROUP_GET_DEVICE_FD: its regions (BARs, config space), its interrupts,
// and reset.
//
// Example [vfio_device], built by tests/unit/doc_examples_test.cpp:
//
//     auto dev  = group->device("0000:00:04.0");                  // VFIO_GROUP_GET_DEVICE_FD
//     if (!dev) return kvmxx::unexpected(dev.error());
//     auto regs = dev->mmap(kvmxx::vfio::region::bar0);          // GET_REGION_INFO + mmap: the BAR in our address space
//     auto irq  = kvmxx::EventFd::create();
//     if (!regs || !irq) return kvmxx::unexpected(regs ? irq.error() : regs.error());
//     if (auto r = dev->set_irq(kvmxx::vfio::Irq::Intx, *irq); !r) return r;  // VFIO_DEVICE_SET_IRQS: INTx → eventfd
//
// The eventfd a device interrupt signals is what KVM_IRQFD takes: pass it to
// Vm::irqfd and the interrupt reaches the guest without passing through us.
#pragma once

#include "../concepts.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../ioctl.hpp"
#include "../mapping.hpp"
#include "../trace.hpp"
#include "../unique_fd.hpp"
#include "cap_chain.hpp"
#include "pci_config.hpp"

#include <linux/vfio.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

KVMXX_BEGIN_NAMESPACE
/// VFIO's plain data: device, region and interrupt info, PCI config decoding, sysfs.
namespace vfio {

/// The interrupt indexes of a vfio-pci device.
enum class Irq : std::uint32_t {
    Intx = VFIO_PCI_INTX_IRQ_INDEX,
    Msi = VFIO_PCI_MSI_IRQ_INDEX,
    Msix = VFIO_PCI_MSIX_IRQ_INDEX,
    Err = VFIO_PCI_ERR_IRQ_INDEX,
    Req = VFIO_PCI_REQ_IRQ_INDEX,
};

/// "INTx", "MSI", "MSI-X", "ERR" or "REQ", for messages and the trace.
inline const char* irq_name(Irq i) noexcept {
    switch (i) {
        case Irq::Intx: return "INTx";
        case Irq::Msi: return "MSI";
        case Irq::Msix: return "MSI-X";
        case Irq::Err: return "ERR";
        case Irq::Req: return "REQ";
    }
    return "?";
}

/// "DATA_EVENTFD|ACTION_TRIGGER" for VFIO_DEVICE_SET_IRQS flags (the trace's words).
inline std::string irq_set_flags_name(std::uint32_t flags) {
    std::string s = (flags & VFIO_IRQ_SET_DATA_EVENTFD) ? "DATA_EVENTFD"
                    : (flags & VFIO_IRQ_SET_DATA_BOOL)  ? "DATA_BOOL"
                                                        : "DATA_NONE";
    s += (flags & VFIO_IRQ_SET_ACTION_UNMASK) ? "|ACTION_UNMASK"
         : (flags & VFIO_IRQ_SET_ACTION_MASK) ? "|ACTION_MASK"
                                              : "|ACTION_TRIGGER";
    return s;
}

/// The region indexes of a vfio-pci device.
namespace region {
inline constexpr std::uint32_t bar0 = VFIO_PCI_BAR0_REGION_INDEX;      ///< BAR0 (BAR1-5 follow it)
inline constexpr std::uint32_t rom = VFIO_PCI_ROM_REGION_INDEX;        ///< the expansion ROM
inline constexpr std::uint32_t config = VFIO_PCI_CONFIG_REGION_INDEX;  ///< configuration space
/// BARn's region index, for n in 0-5.
inline constexpr std::uint32_t bar(unsigned n) noexcept { return bar0 + n; }
}  // namespace region

/// "BAR0".."BAR5", "ROM", "config", "VGA" or the number, for messages and the trace.
inline std::string region_name(std::uint32_t index) {
    if (index <= VFIO_PCI_BAR5_REGION_INDEX) return "BAR" + std::to_string(index);
    if (index == VFIO_PCI_ROM_REGION_INDEX) return "ROM";
    if (index == VFIO_PCI_CONFIG_REGION_INDEX) return "config";
    if (index == VFIO_PCI_VGA_REGION_INDEX) return "VGA";
    return std::to_string(index);
}

/// VFIO_DEVICE_GET_INFO.
struct DeviceInfo {
    std::uint32_t flags = 0;        ///< VFIO_DEVICE_FLAGS_*
    std::uint32_t num_regions = 0;  ///< region indexes 0..num_regions-1 exist
    std::uint32_t num_irqs = 0;     ///< interrupt indexes 0..num_irqs-1 exist
    /// A vfio-pci device: the region and Irq indexes above apply.
    bool is_pci() const noexcept { return flags & VFIO_DEVICE_FLAGS_PCI; }
    /// The device has a reset method, so VfioDevice::reset() can work.
    bool can_reset() const noexcept { return flags & VFIO_DEVICE_FLAGS_RESET; }
};

/// A part of a region that may be mmapped (the sparse-mmap capability).
struct SparseArea {
    std::uint64_t offset;  ///< within the region
    std::uint64_t size;    ///< bytes
};

/// VFIO_DEVICE_GET_REGION_INFO with its capabilities.
struct RegionInfo {
    std::uint32_t index = 0;   ///< region index (vfio::region)
    std::uint32_t flags = 0;   ///< VFIO_REGION_INFO_FLAG_*
    std::uint64_t size = 0;    ///< bytes (0: the device has no such region)
    std::uint64_t offset = 0;  ///< of the region in the device fd (for pread/pwrite/mmap)
    std::optional<std::vector<SparseArea>> sparse;  ///< present: only these parts may be mmapped
    std::optional<std::pair<std::uint32_t, std::uint32_t>> type;  ///< (type, subtype) of a device-specific region
    bool msix_mappable = false;  ///< the MSI-X table in this BAR may be mmapped too

    bool readable() const noexcept { return flags & VFIO_REGION_INFO_FLAG_READ; }   ///< pread works on it
    bool writable() const noexcept { return flags & VFIO_REGION_INFO_FLAG_WRITE; }  ///< pwrite works on it
    /// mmap works on it, or on its sparse areas when it has them.
    bool mappable() const noexcept { return flags & VFIO_REGION_INFO_FLAG_MMAP; }
    /// The parts that may be mmapped: the sparse areas, or the whole region.
    std::vector<SparseArea> mmap_areas() const {
        if (!mappable() || size == 0) return {};
        if (sparse && !msix_mappable) return *sparse;
        return {{0, size}};
    }
};

/// Decodes what VFIO_DEVICE_GET_REGION_INFO wrote into `buffer` (pure; unit-tested).
inline RegionInfo decode_region_info(std::span<const std::uint8_t> buffer) {
    vfio_region_info raw{};
    std::memcpy(&raw, buffer.data(), std::min(buffer.size(), sizeof raw));
    RegionInfo out{raw.index, raw.flags, raw.size, raw.offset, {}, {}, false};
    if (!(raw.flags & VFIO_REGION_INFO_FLAG_CAPS)) return out;
    for (const InfoCap& cap : info_caps(buffer, raw.cap_offset)) {
        if (cap.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
            vfio_region_info_cap_sparse_mmap head;
            if (!cap.read(head)) continue;
            std::vector<SparseArea> areas;
            for (std::uint32_t i = 0; i < head.nr_areas; ++i) {
                const std::size_t at = sizeof(vfio_region_info_cap_sparse_mmap) + i * sizeof(vfio_region_sparse_mmap_area);
                if (at + sizeof(vfio_region_sparse_mmap_area) > cap.bytes.size()) break;
                vfio_region_sparse_mmap_area a;
                std::memcpy(&a, cap.bytes.data() + at, sizeof a);
                if (a.size != 0 && a.offset <= raw.size && a.size <= raw.size - a.offset) areas.push_back({a.offset, a.size});
            }
            out.sparse = std::move(areas);
        } else if (cap.id == VFIO_REGION_INFO_CAP_TYPE) {
            vfio_region_info_cap_type t;
            if (cap.read(t)) out.type = std::pair{t.type, t.subtype};
        } else if (cap.id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
            out.msix_mappable = true;
        }
    }
    return out;
}

/// VFIO_DEVICE_GET_IRQ_INFO.
struct IrqInfo {
    Irq index = Irq::Intx;    ///< which interrupt this describes
    std::uint32_t flags = 0;  ///< VFIO_IRQ_INFO_*
    std::uint32_t count = 0;  ///< vectors (0: the device has none of this kind)
    /// Its vectors can signal eventfds (VfioDevice::set_irq).
    bool eventfd() const noexcept { return flags & VFIO_IRQ_INFO_EVENTFD; }
    /// VfioDevice::mask and VfioDevice::unmask work on it.
    bool maskable() const noexcept { return flags & VFIO_IRQ_INFO_MASKABLE; }
    /// VFIO masks it each time it fires (level-triggered INTx): unmask after handling.
    bool automasked() const noexcept { return flags & VFIO_IRQ_INFO_AUTOMASKED; }
};

/// An mmapped part of a region: where it sits in the region, and its owner.
struct MappedArea {
    std::uint64_t offset;  ///< of the mapping within the region
    Mapping map;           ///< the mapping, unmapped when this is destroyed
};

}  // namespace vfio

/// One VFIO device fd (from VfioGroup::device): its regions, config space,
/// interrupts and reset. Move-only; closing the fd releases the device.
class VfioDevice {
public:
    VfioDevice() = default;
    /// Takes ownership of a device fd; `name` (the PCI address) labels errors and the trace.
    VfioDevice(UniqueFd fd, std::string name) noexcept : fd_(std::move(fd)), name_(std::move(name)) {}

    /// VFIO_DEVICE_GET_INFO.
    [[nodiscard]] Result<vfio::DeviceInfo> info() const {
        vfio_device_info i{};
        i.argsz = sizeof i;
        return sys::ioctl(fd_.get(), VFIO_DEVICE_GET_INFO, "VFIO_DEVICE_GET_INFO", &i, [&] { return describe(); })
            .transform([&](int) { return vfio::DeviceInfo{i.flags, i.num_regions, i.num_irqs}; });
    }

    /// VFIO_DEVICE_GET_REGION_INFO of region `index`, capabilities included
    /// (asked twice when the capabilities need a bigger buffer).
    [[nodiscard]] Result<vfio::RegionInfo> region_info(std::uint32_t index) const {
        std::vector<std::uint8_t> buf(sizeof(vfio_region_info));
        for (int pass = 0; pass < 2; ++pass) {
            auto* r = reinterpret_cast<vfio_region_info*>(buf.data());
            r->argsz = static_cast<std::uint32_t>(buf.size());
            r->index = index;
            auto res = sys::ioctl(fd_.get(), VFIO_DEVICE_GET_REGION_INFO, "VFIO_DEVICE_GET_REGION_INFO", r,
                                  [&] { return describe().append(" region=").append(vfio::region_name(index)); });
            if (!res) return unexpected<Error>(std::move(res).error());
            if (r->argsz <= buf.size()) break;
            buf.assign(r->argsz, 0);
        }
        return vfio::decode_region_info(buf);
    }

    /// mmap of the whole region (a BAR) as an owning Mapping. Refused, with what to
    /// do instead, when the region cannot be mmapped or only parts of it can.
    [[nodiscard]] Result<Mapping> mmap(const vfio::RegionInfo& r, int prot = PROT_READ | PROT_WRITE) const {
        const std::string what = describe() + " region=" + std::to_string(r.index);
        if (!r.mappable() || r.size == 0)
            return fail_with_hint("mmap", EINVAL, what + " is not mmappable", "use VfioDevice::read/write for it");
        if (r.sparse && !r.msix_mappable)
            return fail_with_hint("mmap", EINVAL, what + " is only partly mmappable (sparse areas)",
                                  "use mmap_sparse, and read/write for the rest (e.g. the MSI-X table)");
        return Mapping::of_fd(fd_.get(), r.size, r.offset, prot);
    }

    /// The same for region `index`, asking VFIO_DEVICE_GET_REGION_INFO first.
    ///
    /// Example [vfio_mmap], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto regs = dev.mmap(kvmxx::vfio::region::bar0);
    [[nodiscard]] Result<Mapping> mmap(std::uint32_t index, int prot = PROT_READ | PROT_WRITE) const {
        auto r = region_info(index);
        if (!r) return unexpected<Error>(std::move(r).error());
        return mmap(*r, prot);
    }

    /// mmap of every part of the region that may be mmapped (see RegionInfo::mmap_areas).
    [[nodiscard]] Result<std::vector<vfio::MappedArea>> mmap_sparse(const vfio::RegionInfo& r, int prot = PROT_READ | PROT_WRITE) const {
        std::vector<vfio::MappedArea> out;
        for (const auto& a : r.mmap_areas()) {
            auto m = Mapping::of_fd(fd_.get(), a.size, r.offset + a.offset, prot);
            if (!m) return unexpected<Error>(std::move(m).error());
            out.push_back({a.offset, std::move(*m)});
        }
        return out;
    }

    /// pread of `out.size()` bytes at `offset` in region `index`. A short read is an error.
    [[nodiscard]] Result<> read(std::uint32_t index, std::uint64_t offset, std::span<std::uint8_t> out) const {
        auto r = region_offset(index);
        if (!r) return unexpected<Error>(std::move(r).error());
        const auto n = ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(*r + offset));
        return transferred("pread", index, offset, out.size(), n);
    }
    /// pwrite of `in` at `offset` in region `index`. A short write is an error.
    [[nodiscard]] Result<> write(std::uint32_t index, std::uint64_t offset, std::span<const std::uint8_t> in) const {
        auto r = region_offset(index);
        if (!r) return unexpected<Error>(std::move(r).error());
        const auto n = ::pwrite(fd_.get(), in.data(), in.size(), static_cast<off_t>(*r + offset));
        return transferred("pwrite", index, offset, in.size(), n);
    }
    /// One register of width sizeof(T) (1, 2, 4 or 8 bytes) from a region.
    template <class T>
        requires std::is_unsigned_v<T>
    [[nodiscard]] Result<T> read_as(std::uint32_t index, std::uint64_t offset) const {
        T v{};
        return read(index, offset, {reinterpret_cast<std::uint8_t*>(&v), sizeof v}).transform([&] { return v; });
    }
    /// One register of width sizeof(T) (1, 2, 4 or 8 bytes) to a region.
    template <class T>
        requires std::is_unsigned_v<T>
    [[nodiscard]] Result<> write_as(std::uint32_t index, std::uint64_t offset, T value) const {
        return write(index, offset, {reinterpret_cast<const std::uint8_t*>(&value), sizeof value});
    }

    /// The first `size` bytes of configuration space (256: the PCI header and
    /// the standard capabilities; 4096 reaches the extended ones).
    [[nodiscard]] Result<std::vector<std::uint8_t>> config(std::size_t size = 256) const {
        std::vector<std::uint8_t> bytes(size);
        return read(vfio::region::config, 0, bytes).transform([&] { return std::move(bytes); });
    }
    /// One configuration-space register of width sizeof(T) (vfio::pci offsets).
    template <class T>
    [[nodiscard]] Result<T> config_read(std::uint16_t offset) const { return read_as<T>(vfio::region::config, offset); }
    /// Writes one configuration-space register; VFIO filters what the device sees
    /// (it virtualises the BARs and the MSI/MSI-X capabilities, for instance).
    template <class T>
    [[nodiscard]] Result<> config_write(std::uint16_t offset, T value) const { return write_as<T>(vfio::region::config, offset, value); }

    /// Sets bits in the command register: memory decoding and bus mastering, which
    /// a device needs before its BARs answer and before it may DMA.
    [[nodiscard]] Result<> enable_memory_and_bus_master() const {
        auto cmd = config_read<std::uint16_t>(vfio::pci::command);
        if (!cmd) return unexpected<Error>(std::move(cmd).error());
        return config_write<std::uint16_t>(vfio::pci::command,
                                           *cmd | vfio::pci::command_memory | vfio::pci::command_bus_master);
    }

    /// VFIO_DEVICE_GET_IRQ_INFO.
    [[nodiscard]] Result<vfio::IrqInfo> irq_info(vfio::Irq index) const {
        vfio_irq_info i{};
        i.argsz = sizeof i;
        i.index = static_cast<std::uint32_t>(index);
        return sys::ioctl(fd_.get(), VFIO_DEVICE_GET_IRQ_INFO, "VFIO_DEVICE_GET_IRQ_INFO", &i,
                          [&] { return describe_irq(index); })
            .transform([&](int) { return vfio::IrqInfo{index, i.flags, i.count}; });
    }

    /// VFIO_DEVICE_SET_IRQS (DATA_EVENTFD | ACTION_TRIGGER): vectors start.. of
    /// `index` signal `fds` (-1 detaches a vector). Enables MSI/MSI-X as needed.
    [[nodiscard]] Result<> set_irq_eventfds(vfio::Irq index, std::uint32_t start, std::span<const int> fds) {
        return set_irqs(index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start, fds);
    }
    /// One vector: `source`'s eventfd is signalled when the device raises it.
    template <EventSource S>
    [[nodiscard]] Result<> set_irq(vfio::Irq index, const S& source, std::uint32_t vector = 0) {
        const int fd = source.event_fd();
        return set_irq_eventfds(index, vector, {&fd, 1});
    }
    /// Detaches every eventfd of `index` and disables it (MSI/MSI-X off).
    [[nodiscard]] Result<> disable_irqs(vfio::Irq index) {
        return set_irqs(index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, {});
    }
    /// Unmasks a vector (INTx is masked by VFIO each time it fires: unmask it after
    /// the device has been acknowledged).
    [[nodiscard]] Result<> unmask(vfio::Irq index, std::uint32_t vector = 0) {
        return set_irqs(index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, vector, {}, 1);
    }
    /// Masks a vector.
    [[nodiscard]] Result<> mask(vfio::Irq index, std::uint32_t vector = 0) {
        return set_irqs(index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, vector, {}, 1);
    }
    /// An eventfd that unmasks the vector when signalled (DATA_EVENTFD |
    /// ACTION_UNMASK): give it to Vm::irqfd as the resample fd and KVM unmasks
    /// INTx when the guest EOIs, with no userspace in between.
    template <EventSource S>
    [[nodiscard]] Result<> set_unmask_eventfd(vfio::Irq index, const S& source, std::uint32_t vector = 0) {
        const int fd = source.event_fd();
        return set_irqs(index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, vector, {&fd, 1});
    }

    /// VFIO_DEVICE_RESET.
    [[nodiscard]] Result<> reset() {
        auto r = sys::ioctl(fd_.get(), VFIO_DEVICE_RESET, "VFIO_DEVICE_RESET", 0, [&] { return describe(); });
        if (!r && r.error().errnum() == ENOTTY)
            return fail_with_hint("VFIO_DEVICE_RESET", ENOTTY, describe(), "this device has no reset method (see info().can_reset())");
        return r.transform([](int) {});
    }

    const std::string& name() const noexcept { return name_; }  ///< the name given (the PCI address)
    int fd() const noexcept { return fd_.get(); }               ///< the raw device fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }         ///< holds a device fd (not default/moved-from)

private:
    std::string describe() const { return "device=" + name_; }
    std::string describe_irq(vfio::Irq i) const { return describe() + " irq=" + vfio::irq_name(i); }

    [[nodiscard]] Result<> set_irqs(vfio::Irq index, std::uint32_t flags, std::uint32_t start, std::span<const int> fds,
                      std::uint32_t count_without_data = 0) {
        const std::uint32_t count = fds.empty() ? count_without_data : static_cast<std::uint32_t>(fds.size());
        // Small sets (mask, unmask, one eventfd: the per-interrupt ones) need no allocation.
        constexpr std::size_t inline_fds = 4;
        alignas(vfio_irq_set) std::uint8_t small[sizeof(vfio_irq_set) + inline_fds * sizeof(int)];
        std::vector<std::uint8_t> large;
        std::span<std::uint8_t> buf(small, sizeof(vfio_irq_set) + fds.size_bytes());
        if (fds.size() > inline_fds) {
            large.resize(sizeof(vfio_irq_set) + fds.size_bytes());
            buf = large;
        }
        vfio_irq_set head{};
        head.argsz = static_cast<std::uint32_t>(buf.size());
        head.flags = flags;
        head.index = static_cast<std::uint32_t>(index);
        head.start = start;
        head.count = count;
        std::memcpy(buf.data(), &head, sizeof head);
        if (!fds.empty()) std::memcpy(buf.data() + sizeof head, fds.data(), fds.size_bytes());
        auto r = sys::ioctl(fd_.get(), VFIO_DEVICE_SET_IRQS, "VFIO_DEVICE_SET_IRQS", buf.data(), [&] {
            trace::Args a;
            a.raw(describe_irq(index)).str("flags", vfio::irq_set_flags_name(flags)).dec("start", start).dec("count", count);
            if (!fds.empty()) a.sdec("fd", fds[0]);
            return a.take();
        });
        if (!r && r.error().errnum() == EINVAL)
            return fail_with_hint("VFIO_DEVICE_SET_IRQS", EINVAL, r.error().detail(),
                                  "check irq_info(): the vector must exist, and MSI and MSI-X cannot be on at once");
        return r.transform([](int) {});
    }

    [[nodiscard]] Result<std::uint64_t> region_offset(std::uint32_t index) const {
        // VFIO PCI places region N at N << 40 in the fd; ask rather than assume.
        if (index < cached_offsets_.size() && cached_offsets_[index]) return *cached_offsets_[index];
        auto r = region_info(index);
        if (!r) return unexpected<Error>(std::move(r).error());
        if (index >= cached_offsets_.size()) cached_offsets_.resize(index + 1);
        cached_offsets_[index] = r->offset;
        return r->offset;
    }

    [[nodiscard]] Result<> transferred(const char* op, std::uint32_t index, std::uint64_t offset, std::size_t want, ssize_t got) const {
        if (got == static_cast<ssize_t>(want)) return {};
        const std::string what = describe() + " region=" + std::to_string(index) + " offset=" + trace::hex(offset) +
                                 " size=" + std::to_string(want);
        if (got < 0) return fail_errno(op, what);
        return fail_with_hint(op, EIO, what + " transferred=" + std::to_string(got),
                              "the access runs past the end of the region or has a width the region does not allow");
    }

    UniqueFd fd_;
    std::string name_;
    mutable std::vector<std::optional<std::uint64_t>> cached_offsets_;
};

KVMXX_END_NAMESPACE
