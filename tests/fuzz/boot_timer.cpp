// The boot-timer marker (examples/vmm/boot_timer.hpp): any load reads zero at
// any width and offset; it is marked from the first store on, never before;
// the elapsed time it reports never goes backwards.
#include "fuzz.hpp"

#include "../../examples/vmm/boot_timer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    vmm::BootTimer timer(vmm::board::boot_timer.base, vmm::BootTimer::Clock::now());
    bool stored = false;
    double last = 0;
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        const std::uint64_t offset = op & 0x80 ? in.u64() : in.u16() & 0xfff;
        std::uint8_t buf[8];
        const std::size_t len = std::size_t{1} << (op & 3);
        if (op & 4) {
            for (auto& b : buf) b = in.u8();
            timer.write(offset, {buf, len});
            stored = true;
        } else {
            std::memset(buf, 0x5a, sizeof buf);
            timer.read(offset, {buf, len});
            for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(buf[i] == 0);
        }
        FUZZ_CHECK(timer.marked() == stored);
        const double now = timer.elapsed_ms();
        FUZZ_CHECK(now >= last);
        last = now;
    }
    return 0;
}
