// PCI capability lists and BARs (include/kvmxx/vfio/pci_config.hpp) over a
// configuration space of any length and content, as a device might present
// it. Invariants: the walk ends (no entry twice), every entry lies in the
// header's capability area and inside the bytes given; BARs come in register
// order, a 64-bit one taking two registers and never the last; the MSI and
// MSI-X capabilities found are whole inside the bytes given, with 1..2048
// MSI-X vectors and a table and PBA in BARs 0..5; nothing reads past the input.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> bytes(data, data + std::min<std::size_t>(size, 4096));
    const kvmxx::vfio::PciConfig pc(bytes);
    const auto caps = pc.capabilities();
    FUZZ_CHECK(caps.size() <= 48);
    bool seen[256] = {};
    for (const auto& c : caps) {
        FUZZ_CHECK(c.offset >= 0x40 && c.offset % 4 == 0 && c.offset + 2u <= bytes.size());
        FUZZ_CHECK(!seen[c.offset] && c.id == bytes[c.offset]);
        seen[c.offset] = true;
    }
    if (caps.empty()) FUZZ_CHECK(!pc.msi() && !pc.msix());

    unsigned next = 0;
    for (const auto& b : pc.bars()) {
        FUZZ_CHECK(b.index >= next && b.index < 6);
        FUZZ_CHECK(!b.is_64bit || (b.index < 5 && !b.io));
        next = b.index + (b.is_64bit ? 2 : 1);
    }
    if (auto m = pc.msi()) {
        FUZZ_CHECK(seen[m->offset]);
        const unsigned len = 10 + (m->is_64bit() ? 4 : 0) + (m->per_vector_masking() ? 10 : 0);
        FUZZ_CHECK(m->offset + len <= bytes.size() && m->offset + len <= 256);
        FUZZ_CHECK(m->data_offset() > m->offset && m->data_offset() + 2 <= m->offset + len);
        FUZZ_CHECK(m->mask_offset() > m->data_offset());
        if (m->per_vector_masking()) FUZZ_CHECK(m->mask_offset() + 8 <= m->offset + len);
    }
    if (auto m = pc.msix()) {
        FUZZ_CHECK(seen[m->offset] && m->offset + 12u <= bytes.size() && m->offset + 12u <= 256);
        FUZZ_CHECK(m->table_size >= 1 && m->table_size <= 2048 && m->table_bar < 8 && m->pba_bar < 8);
        FUZZ_CHECK(m->table_offset % 8 == 0 && m->pba_offset % 8 == 0);
    }
    for (std::size_t off : {bytes.size(), bytes.size() + 1, std::size_t{4095}}) (void)pc.u32(off);
    return 0;
}
