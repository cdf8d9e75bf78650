// kvmxx/vfio/pci_config.hpp — reading a PCI function's configuration space:
// the capability list, the BARs, and the MSI and MSI-X capabilities.
//
// Pure logic over bytes (from VfioDevice::config(), or a test's array), so it
// can be unit-tested on any host. A device is untrusted input: every pointer in
// the list is bounds-checked and a loop in the list ends the walk.
//
// Example [pci_config], built by tests/unit/doc_examples_test.cpp:
//
//     auto cfg = dev->config();                         // 256 bytes via the config region
//     if (!cfg) return kvmxx::unexpected(cfg.error());
//     kvmxx::vfio::PciConfig pci(*cfg);
//     std::printf("%04x:%04x\n", pci.vendor_id(), pci.device_id());
//     if (auto msix = pci.msix()) std::printf("%u MSI-X vectors in BAR%u\n", msix->table_size, msix->table_bar);
#pragma once

#include "../config.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

KVMXX_BEGIN_NAMESPACE
namespace vfio {

/// Offsets and bits of the PCI type 0 configuration header (PCI Local Bus 3.0, 6.2).
namespace pci {
/// Register offsets in the header.
/// @{
inline constexpr std::uint16_t vendor_id = 0x00, device_id = 0x02, command = 0x04, status = 0x06;
inline constexpr std::uint16_t class_revision = 0x08, header_type = 0x0e, bar0 = 0x10, cap_pointer = 0x34;
inline constexpr std::uint16_t interrupt_line = 0x3c, interrupt_pin = 0x3d;
/// @}
/// Command register bits: decode I/O, decode memory, master DMA, mask INTx.
/// @{
inline constexpr std::uint16_t command_io = 1 << 0, command_memory = 1 << 1, command_bus_master = 1 << 2;
inline constexpr std::uint16_t command_intx_disable = 1 << 10;
/// @}
/// Status register bits: INTx asserted, capability list present.
/// @{
inline constexpr std::uint16_t status_interrupt = 1 << 3, status_cap_list = 1 << 4;
/// @}
/// Capability IDs: MSI, PCI Express, MSI-X.
/// @{
inline constexpr std::uint8_t cap_msi = 0x05, cap_pcie = 0x10, cap_msix = 0x11;
/// @}
}  // namespace pci

/// One entry of the capability list.
struct PciCapability {
    std::uint8_t id;      ///< capability ID (pci::cap_msi, pci::cap_msix, ...)
    std::uint8_t offset;  ///< in configuration space
};

/// A base address register, decoded. Its size comes from the VFIO region info
/// (probing by writing all ones is the kernel's job, not ours).
struct PciBar {
    unsigned index;         ///< BAR number, 0-5 (the VFIO region index too)
    std::uint64_t address;  ///< as programmed, flag bits cleared
    bool io;                ///< I/O space (else memory)
    bool is_64bit;          ///< memory BAR using this and the next register
    bool prefetchable;      ///< memory BAR the device allows to be prefetched
};

/// The MSI capability (PCI Local Bus 3.0, 6.8.1).
struct MsiCapability {
    std::uint8_t offset;    ///< of the capability in configuration space
    std::uint16_t control;  ///< Message Control register, as read
    /// MSI Enable: the function sends MSIs instead of INTx.
    bool enabled() const noexcept { return control & 1; }
    /// Vectors the function asks for (Multiple Message Capable, a power of two).
    unsigned vectors_capable() const noexcept { return 1u << ((control >> 1) & 7); }
    /// The message address has an upper 32-bit half.
    bool is_64bit() const noexcept { return control & (1 << 7); }
    /// Mask and pending bits follow the message data.
    bool per_vector_masking() const noexcept { return control & (1 << 8); }
    /// Offsets of the message data and mask bits, which move with the 64-bit flag.
    /// The mask bits exist only with per_vector_masking(). Not cut to a byte: a
    /// capability without them may end near 0xff, where its would-be mask offset
    /// is past the 256-byte space (0x100, not a wrapped 0x00 inside the header).
    /// @{
    unsigned data_offset() const noexcept { return offset + (is_64bit() ? 12u : 8u); }
    unsigned mask_offset() const noexcept { return offset + (is_64bit() ? 16u : 12u); }
    /// @}
};

/// The MSI-X capability: where the vector table and pending-bit array live.
struct MsixCapability {
    std::uint8_t offset;         ///< of the capability in configuration space
    std::uint16_t control;       ///< Message Control register, as read
    unsigned table_size;         ///< vectors (the field holds N-1)
    unsigned table_bar;          ///< BAR (BIR) holding the vector table
    std::uint32_t table_offset;  ///< of the vector table inside that BAR
    unsigned pba_bar;            ///< BAR (BIR) holding the pending-bit array
    std::uint32_t pba_offset;    ///< of the pending-bit array inside that BAR
    /// MSI-X Enable: the function sends MSI-X messages instead of INTx.
    bool enabled() const noexcept { return control & (1u << 15); }
    /// Function Mask: every vector masked, whatever its own mask bit says.
    bool function_masked() const noexcept { return control & (1u << 14); }
    /// Bytes of the table: 16 per vector.
    std::uint32_t table_bytes() const noexcept { return table_size * 16; }
    /// Bytes of the pending-bit array: one bit per vector, in whole 64-bit words.
    std::uint32_t pba_bytes() const noexcept { return ((table_size + 63) / 64) * 8; }
};

/// A read-only view of (at least the first 64 bytes of) a configuration space.
class PciConfig {
public:
    /// Views `bytes`, which must outlive this view (nothing is copied).
    explicit PciConfig(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    /// The little-endian value at `off`; bytes past the end read as 0xff, as
    /// config reads of an absent function do.
    /// @{
    std::uint8_t u8(std::size_t off) const noexcept { return off < bytes_.size() ? bytes_[off] : 0xff; }
    std::uint16_t u16(std::size_t off) const noexcept {
        return static_cast<std::uint16_t>(u8(off) | u8(off + 1) << 8);
    }
    std::uint32_t u32(std::size_t off) const noexcept { return u16(off) | std::uint32_t{u16(off + 2)} << 16; }
    /// @}

    std::uint16_t vendor_id() const noexcept { return u16(pci::vendor_id); }  ///< Vendor ID (0xffff: no function)
    std::uint16_t device_id() const noexcept { return u16(pci::device_id); }  ///< Device ID
    std::uint16_t command() const noexcept { return u16(pci::command); }      ///< Command register (pci::command_*)
    std::uint16_t status() const noexcept { return u16(pci::status); }        ///< Status register (pci::status_*)
    /// Class code: base class, subclass, programming interface (24 bits).
    std::uint32_t class_code() const noexcept { return u32(pci::class_revision) >> 8; }
    /// Header layout, 0 for an endpoint, 1 for a bridge (multi-function bit cleared).
    std::uint8_t header_type() const noexcept { return u8(pci::header_type) & 0x7f; }
    /// Legacy INTx pin, 1-4 for INTA#-INTD#, 0 for none.
    std::uint8_t interrupt_pin() const noexcept { return u8(pci::interrupt_pin); }

    /// The capability list in order. Pointers outside the space, below the
    /// header, or revisiting an entry end the walk.
    std::vector<PciCapability> capabilities() const {
        std::vector<PciCapability> caps;
        if (!(status() & pci::status_cap_list)) return caps;
        bool seen[256] = {};
        std::uint8_t at = u8(pci::cap_pointer) & 0xfc;
        while (at >= 0x40 && at + 2u <= bytes_.size() && !seen[at]) {
            seen[at] = true;
            caps.push_back({u8(at), at});
            at = u8(at + 1u) & 0xfc;
        }
        return caps;
    }

    /// The first capability with ID `id`, if the list has one.
    std::optional<PciCapability> find(std::uint8_t id) const {
        for (auto c : capabilities())
            if (c.id == id) return c;
        return std::nullopt;
    }

    /// The six BARs of a type 0 header; the upper half of a 64-bit BAR is not listed.
    std::vector<PciBar> bars() const {
        std::vector<PciBar> out;
        if (header_type() != 0) return out;
        for (unsigned i = 0; i < 6; ++i) {
            const std::uint32_t lo = u32(pci::bar0 + 4 * i);
            PciBar b{i, 0, (lo & 1) != 0, false, false};
            if (b.io) {
                b.address = lo & ~0x3u;
            } else {
                b.is_64bit = ((lo >> 1) & 3) == 2 && i < 5;
                b.prefetchable = (lo & 8) != 0;
                b.address = lo & ~0xfu;
                if (b.is_64bit) b.address |= std::uint64_t{u32(pci::bar0 + 4 * (i + 1))} << 32;
            }
            out.push_back(b);
            if (b.is_64bit) ++i;
        }
        return out;
    }

    /// The MSI capability, if the list has one whose registers all lie inside
    /// the bytes given (a capability running off the end is not one).
    std::optional<MsiCapability> msi() const {
        auto c = find(pci::cap_msi);
        if (!c || c->offset + 4u > bytes_.size()) return std::nullopt;
        const MsiCapability m{c->offset, u16(c->offset + 2u)};
        const unsigned len = 10 + (m.is_64bit() ? 4 : 0) + (m.per_vector_masking() ? 10 : 0);
        if (c->offset + len > bytes_.size() || c->offset + len > 256) return std::nullopt;
        return m;
    }

    /// The MSI-X capability, if the list has one lying whole inside the bytes
    /// given, as for msi().
    std::optional<MsixCapability> msix() const {
        auto c = find(pci::cap_msix);
        if (!c || c->offset + 12u > bytes_.size() || c->offset + 12u > 256) return std::nullopt;  // whole, as for msi()
        const std::uint16_t control = u16(c->offset + 2u);
        const std::uint32_t table = u32(c->offset + 4u), pba = u32(c->offset + 8u);
        return MsixCapability{c->offset, control, (control & 0x7ffu) + 1u, table & 7u, table & ~7u, pba & 7u, pba & ~7u};
    }

private:
    std::span<const std::uint8_t> bytes_;
};

}  // namespace vfio
KVMXX_END_NAMESPACE
