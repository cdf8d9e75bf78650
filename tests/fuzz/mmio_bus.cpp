// MMIO bus dispatch (include/kvmxx/mmio_bus.hpp), as a guest drives it: devices
// added at fuzzed ranges, then loads and stores of every width at fuzzed
// addresses, straight and through decoded kvm_run exits. Invariants: add()
// refuses exactly the empty, wrapping and overlapping ranges; an access reaches
// the one device whose range holds all of it, at the right offset, and nothing
// else; an unclaimed load reads zero.
#include "fuzz.hpp"

#include <kvmxx/kvmxx.hpp>

#include <linux/kvm.h>

#include <memory>
#include <string>

namespace {

struct Recorder {
    std::uint64_t base = 0, size = 0;
    int hits = 0;
    std::uint64_t last_offset = 0;
    std::size_t last_len = 0;
    void read(std::uint64_t offset, std::span<std::uint8_t> data) {
        FUZZ_CHECK(offset < size && data.size() <= size - offset);
        ++hits, last_offset = offset, last_len = data.size();
        for (auto& b : data) b = 0xa5;
    }
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) {
        FUZZ_CHECK(offset < size && data.size() <= size - offset);
        ++hits, last_offset = offset, last_len = data.size();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    kvmxx::MmioBus bus;
    std::vector<std::unique_ptr<Recorder>> devices;  // the ones on the bus
    const unsigned adds = in.u8() % 12;
    for (unsigned i = 0; i < adds; ++i) {
        auto d = std::make_unique<Recorder>();
        // Small numbers near a few bases, so that ranges meet and overlap often.
        const std::uint64_t bases[] = {0, 0x0900'0000, 0xffff'ffff'ffff'f000ull, in.u64()};
        d->base = bases[in.u8() % 4] + (in.u16() << 4);
        d->size = in.flag() ? in.u64() : in.u16();
        bool clash = d->size == 0 || d->base + (d->size - 1) < d->base;
        for (const auto& o : devices) clash = clash || fuzz::overlap(d->base, d->size, o->base, o->size);
        auto r = bus.add("d" + std::to_string(i), d->base, d->size, *d);
        FUZZ_CHECK(bool(r) == !clash);
        if (r) devices.push_back(std::move(d));
    }
    FUZZ_CHECK(bus.size() == devices.size());

    std::vector<std::uint8_t> run_page(8192);
    while (!in.empty()) {
        const std::uint8_t op = in.u8();
        std::uint64_t gpa = in.u64();
        if (!devices.empty() && (op & 0x10)) gpa = devices[in.u8() % devices.size()]->base + (gpa & 0xffff) - (op & 0x20 ? 0x100 : 0);
        const std::size_t len = std::size_t{1} << (op >> 6);  // 1, 2, 4, 8: what KVM hands over
        Recorder* owner = nullptr;
        for (const auto& d : devices)
            if (fuzz::within(gpa, len, d->base, d->size)) owner = d.get();
        for (const auto& d : devices) d->hits = 0;

        std::uint8_t buf[8];
        bool claimed;
        switch (op & 3) {
            case 0:
                std::memset(buf, 0x5a, sizeof buf);
                claimed = bus.read(gpa, {buf, len});
                for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(buf[i] == (owner ? 0xa5 : 0));
                break;
            case 1:
                claimed = bus.write(gpa, {buf, len});
                break;
            default: {  // through a kvm_run page, as Vcpu::run decodes it
                auto* run = reinterpret_cast<kvm_run*>(run_page.data());
                std::memset(run, 0, sizeof *run);
                run->exit_reason = KVM_EXIT_MMIO;
                run->mmio.phys_addr = gpa;
                run->mmio.len = static_cast<__u32>(len);
                run->mmio.is_write = op & 1;
                const kvmxx::Exit exit = kvmxx::decode_exit(*run, run_page.size());
                FUZZ_CHECK(bus.handle(exit));
                claimed = owner && owner->hits > 0;
                if (!run->mmio.is_write)
                    for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(run->mmio.data[i] == (owner ? 0xa5 : 0));
            }
        }
        FUZZ_CHECK(claimed == (owner != nullptr));
        for (const auto& d : devices) FUZZ_CHECK(d->hits == (d.get() == owner ? 1 : 0));
        if (owner) {
            FUZZ_CHECK(owner->last_offset == gpa - owner->base);
            FUZZ_CHECK(owner->last_len == len);
            FUZZ_CHECK(bus.device_at(gpa, len).size() > 0);
        } else {
            FUZZ_CHECK(bus.device_at(gpa, len).empty());
        }
    }
    return 0;
}
