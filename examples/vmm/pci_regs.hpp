// pci_regs.hpp — the configuration-space registers and bits the passthrough code
// uses, by name (PCI Local Bus 3.0: 6.1 header, 6.2.5.1 BARs, 6.8.1 MSI,
// 6.8.2 MSI-X). Header offsets and command bits come from kvmxx::vfio::pci.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cstdint>

namespace vmm::pci {

using namespace kvmxx::vfio::pci;  // vendor_id .. interrupt_pin, command_* bits

inline constexpr std::uint16_t config_size = 256;  ///< type 0 header + capabilities; no extended space

// Base address registers.
inline constexpr unsigned bar_count = 6;
inline constexpr std::uint16_t bars_bytes = bar_count * 4;
inline constexpr std::uint16_t bar_bytes(unsigned index) noexcept { return static_cast<std::uint16_t>(bar0 + 4 * index); }
inline constexpr std::uint32_t bar_flag_bits = 0xf;  ///< a memory BAR's read-only low bits: space, type, prefetchable
inline constexpr std::uint16_t expansion_rom = 0x30, expansion_rom_bytes = 4;

// MSI capability: registers at offsets from the capability, Message Control bits.
inline constexpr std::uint16_t msi_control = 2, msi_address = 4, msi_address_high = 8;
inline constexpr std::uint16_t msi_enable = 1 << 0;
inline constexpr std::uint16_t msi_64bit = 1 << 7, msi_per_vector_masking = 1 << 8;
/// What the guest reads of Message Control besides Enable: the read-only
/// 64-bit and per-vector-masking flags. Multiple Message Capable reads 0 (one
/// vector offered), Multiple Message Enable stays 0 (one vector used).
inline constexpr std::uint16_t msi_offered = msi_64bit | msi_per_vector_masking;
/// Bytes of the capability: header, control, address, data; the upper address
/// dword when 64-bit; reserved, mask and pending dwords with per-vector masking.
inline constexpr std::uint16_t msi_bytes(bool is_64bit, bool per_vector_masking) noexcept {
    return static_cast<std::uint16_t>(10 + (is_64bit ? 4 : 0) + (per_vector_masking ? 10 : 0));
}
inline constexpr std::uint32_t msi_vector0 = 1 << 0;  ///< vector 0's bit in the mask (and pending) register

// MSI-X capability: Message Control bits, table entries.
inline constexpr std::uint16_t msix_control = 2;
inline constexpr std::uint16_t msix_table_size_mask = 0x7ff;  ///< read-only: vectors - 1
inline constexpr std::uint16_t msix_function_mask = 1 << 14, msix_enable = 1 << 15;
inline constexpr std::uint16_t msix_writable = msix_enable | msix_function_mask;
inline constexpr std::uint32_t msix_entry_bytes = 16;
inline constexpr std::uint32_t msix_entry_address = 0, msix_entry_address_high = 4, msix_entry_data = 8,
                               msix_entry_control = 12;
inline constexpr std::uint32_t msix_vector_masked = 1 << 0;  ///< Vector Control bit 0; the rest reserved
inline constexpr std::uint32_t msix_address_mask = ~3u;       ///< message addresses are dword aligned

// Power Management capability (PCI PM 1.2, 3.2): its control/status register.
inline constexpr std::uint8_t cap_power_management = 0x01;  ///< its capability ID
inline constexpr std::uint16_t pm_control_status = 4;      ///< PMCSR, 2 bytes
inline constexpr std::uint8_t pm_power_state_mask = 0x3;   ///< PMCSR bits 1:0, D0..D3hot

}  // namespace vmm::pci
