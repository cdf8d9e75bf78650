// The PL011 UART's registers (examples/vmm/pl011.hpp) under any sequence of
// guest loads and stores of widths 1, 2, 4 and 8 at any offset of its page.
// Invariants, from the PL011 TRM: each read/write register reads back what was
// last stored in it, masked to its width; FR always says TX empty, RX empty;
// RIS/MIS read 0; the PrimeCell ID registers read their fixed values; holes and
// unaligned offsets read 0; every byte stored to DR is printed, nothing else is.
#include "fuzz.hpp"

#include "../../examples/vmm/pl011.hpp"

#include <map>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    char* out = nullptr;
    std::size_t out_size = 0;
    std::FILE* sink = open_memstream(&out, &out_size);
    FUZZ_CHECK(sink);
    vmm::Pl011 uart(vmm::board::uart.base, vmm::board::uart_spi, sink);
    std::string expected;
    // offset → (mask, value): the registers the guest may set, at their reset values.
    std::map<std::uint64_t, std::pair<std::uint32_t, std::uint32_t>> regs = {
        {0x24, {0xffff, 0}}, {0x28, {0x3f, 0}}, {0x2c, {0xff, 0}},
        {0x30, {0xffff, 0x300}}, {0x34, {0x3f, 0x12}}, {0x38, {0x7ff, 0}}};
    const std::uint32_t ids[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        const std::uint64_t offset = op & 0x80 ? in.u16() & 0xfff : (in.u8() & 0x3f) << 2 | (op & 0x40 ? 0xf00 : 0);
        const std::size_t len = std::size_t{1} << (op & 3);
        if (op & 4) {
            std::uint8_t buf[8];
            for (auto& b : buf) b = in.u8();
            uart.write(offset, {buf, len});
            std::uint32_t v = 0;
            for (std::size_t i = 0; i < len && i < 4; ++i) v |= std::uint32_t{buf[i]} << (8 * i);
            if (auto r = regs.find(offset); r != regs.end()) r->second.second = v & r->second.first;
            if (offset == 0) expected += static_cast<char>(buf[0]);
        } else {
            std::uint8_t buf[8];
            std::memset(buf, 0x5a, sizeof buf);
            uart.read(offset, {buf, len});
            std::uint32_t want = 0;
            if (auto r = regs.find(offset); r != regs.end()) want = r->second.second;
            else if (offset == 0x18) want = 0x90;
            else if (offset >= 0xfe0 && offset % 4 == 0) want = ids[(offset - 0xfe0) / 4];
            for (std::size_t i = 0; i < len; ++i)
                FUZZ_CHECK(buf[i] == (i < 4 ? static_cast<std::uint8_t>(want >> (8 * i)) : 0));
        }
    }
    std::fclose(sink);
    FUZZ_CHECK(std::string(out, out_size) == expected);
    std::free(out);
    return 0;
}
