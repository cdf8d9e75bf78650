// The MSI-X table and PBA (examples/vmm/msix.hpp) under guest accesses of any
// width at any offset of the BARs. Invariants (PCI Local Bus 3.0, 6.8.2): only
// aligned 4- and 8-byte accesses inside the table or PBA are served; an entry
// reads back what was written, with the message address dword aligned and the
// reserved Vector Control bits 0; the PBA reads 0 and ignores writes; a write
// reports the vector it changed, which exists; vectors come out of reset masked.
#include "fuzz.hpp"

#include "../../examples/vmm/msix.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    namespace pci = vmm::pci;
    kvmxx::vfio::MsixCapability cap{};
    cap.offset = 0x40;
    cap.control = in.u16() & pci::msix_table_size_mask;
    cap.table_size = cap.control + 1u;
    cap.table_bar = in.u8() % 6;
    cap.table_offset = in.u32() & ~7u & 0xf'ffff;
    cap.pba_bar = in.u8() % 6;
    cap.pba_offset = in.u32() & ~7u & 0xf'ffff;
    std::array<std::uint8_t, pci::config_size> bytes{};
    vmm::VirtualConfig cfg(bytes);
    vmm::VirtualMsix msix(cap, cfg);
    FUZZ_CHECK(msix.vectors() == cap.table_size);

    struct Entry {
        std::uint32_t lo = 0, hi = 0, data = 0, control = 1;
    };
    std::vector<Entry> model(cap.table_size);
    const std::uint64_t table_end = std::uint64_t{cap.table_offset} + cap.table_bytes();
    const std::uint64_t pba_end = std::uint64_t{cap.pba_offset} + cap.pba_bytes();

    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        const unsigned bar = op & 0x80 ? cap.table_bar : op & 0x40 ? cap.pba_bar : in.u8() % 8;
        const std::size_t len = std::size_t{1} << (op & 3);
        std::uint64_t offset = in.u32();
        if (op & 0x20) offset = (bar == cap.pba_bar && !(op & 0x80) ? cap.pba_offset : cap.table_offset) + (offset % 0x8010);
        const bool is_write = op & 4;
        std::uint8_t buf[8];
        for (auto& b : buf) b = in.u8();
        std::uint8_t wrote[8];
        std::memcpy(wrote, buf, sizeof buf);
        const auto hit = msix.bar_access(bar, offset, {buf, len}, is_write);

        // Where the access falls: wholly in the table (first), wholly in the PBA, or neither.
        const bool in_table = bar == cap.table_bar && offset >= cap.table_offset && offset + len <= table_end;
        const bool in_pba = !in_table && bar == cap.pba_bar && offset >= cap.pba_offset && offset + len <= pba_end;
        FUZZ_CHECK(hit.hit == (in_table || in_pba));
        if (!hit.hit) {
            FUZZ_CHECK(!hit.vector);
            if (!is_write) FUZZ_CHECK(std::memcmp(buf, wrote, len) == 0);  // not ours: untouched
            continue;
        }
        const bool served = in_table && (len == 4 || len == 8) && (offset - cap.table_offset) % len == 0;
        if (in_pba) {
            FUZZ_CHECK(!hit.vector);
            if (!is_write)
                for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(buf[i] == 0);
            continue;
        }
        const std::uint64_t rel = offset - cap.table_offset;
        if (is_write) {
            FUZZ_CHECK(bool(hit.vector) == served);
            if (!served) continue;
            FUZZ_CHECK(*hit.vector == rel / 16 && *hit.vector < msix.vectors());
            for (std::size_t i = 0; i < len; i += 4) {
                auto& e = model[(rel + i) / 16];
                const std::uint32_t v = static_cast<std::uint32_t>(fuzz::load_le({wrote + i, 4}));
                switch ((rel + i) % 16) {
                    case 0: e.lo = v & ~3u; break;
                    case 4: e.hi = v; break;
                    case 8: e.data = v; break;
                    default: e.control = v & 1;
                }
            }
        } else {
            FUZZ_CHECK(!hit.vector);
            for (std::size_t i = 0; i < len; i += 4) {
                std::uint32_t want = 0;
                if (served) {
                    const auto& e = model[(rel + i) / 16];
                    const std::uint32_t words[4] = {e.lo, e.hi, e.data, e.control};
                    want = words[(rel + i) % 16 / 4];
                }
                FUZZ_CHECK(fuzz::load_le({buf + i, std::min<std::size_t>(4, len - i)}) ==
                           (len < 4 ? 0 : want));
            }
        }
        for (unsigned v = 0; v < msix.vectors(); v += 1 + v * 7) {
            const auto& e = msix.entry(v);
            FUZZ_CHECK(e.address == (std::uint64_t{model[v].hi} << 32 | model[v].lo));
            FUZZ_CHECK(e.data == model[v].data && e.masked == (model[v].control & 1));
        }
    }
    return 0;
}
