// kvmxx_bench_host — the pure parts, kvmxx against the same work written by
// hand, on the build host: exit decoding, building and preparing a 1,024-entry
// GSI routing table, and an ioctl through kvmxx's wrapper with the trace off.
#include <kvmxx/kvmxx.hpp>

#include <benchmark/benchmark.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

namespace {

/// A kvm_run page as KVM leaves it after a guest's 4-byte MMIO store.
struct MmioRun {
    alignas(4096) std::uint8_t page[4096] = {};
    kvm_run& run() { return *reinterpret_cast<kvm_run*>(page); }
    MmioRun() {
        run().exit_reason = KVM_EXIT_MMIO;
        run().mmio.phys_addr = 0x0a00'0000;
        run().mmio.len = 4;
        run().mmio.is_write = 1;
        std::memcpy(run().mmio.data, "\x78\x56\x34\x12", 4);
    }
};

// Both sides turn the same page into the same two values (address and the
// little-endian data word), checking what decode_exit checks for an MMIO write.
void exit_decode_kvmxx(benchmark::State& state) {
    MmioRun r;
    for (auto _ : state) {
        benchmark::DoNotOptimize(r.page);
        auto exit = kvmxx::decode_exit(r.run(), sizeof r.page);
        auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit);
        if (!w) [[unlikely]]
            return state.SkipWithError("not an MMIO write");
        benchmark::DoNotOptimize(w->address);
        benchmark::DoNotOptimize(w->value());
    }
}
void exit_decode_raw(benchmark::State& state) {
    MmioRun r;
    for (auto _ : state) {
        benchmark::DoNotOptimize(r.page);
        const kvm_run& run = r.run();
        if (run.exit_reason != KVM_EXIT_MMIO || !run.mmio.is_write || run.mmio.len > 8) [[unlikely]]
            return state.SkipWithError("not an MMIO write");
        std::uint64_t value = 0;
        std::memcpy(&value, run.mmio.data, run.mmio.len);  // little-endian host, as the guest stored it
        benchmark::DoNotOptimize(run.mmio.phys_addr);
        benchmark::DoNotOptimize(value);
    }
}

constexpr std::uint32_t routes = 1024;

void irq_route_kvmxx(benchmark::State& state) {
    for (auto _ : state) {
        kvmxx::IrqRoute route;
        route.add_irqchip_pins(0, routes / 2);
        for (std::uint32_t i = 0; i < routes / 2; ++i)
            route.add_msi(routes / 2 + i, {.address = 0x0809'0040, .data = i, .devid = 8});
        auto table = route.prepare(true);
        benchmark::DoNotOptimize(table.arg());
    }
}
void irq_route_raw(benchmark::State& state) {
    for (auto _ : state) {
        std::vector<kvm_irq_routing_entry> entries;  // built up as one would, then packed
        for (std::uint32_t i = 0; i < routes / 2; ++i) {
            kvm_irq_routing_entry e{};
            e.gsi = i;
            e.type = KVM_IRQ_ROUTING_IRQCHIP;
            e.u.irqchip.pin = i;
            entries.push_back(e);
        }
        for (std::uint32_t i = 0; i < routes / 2; ++i) {
            kvm_irq_routing_entry e{};
            e.gsi = routes / 2 + i;
            e.type = KVM_IRQ_ROUTING_MSI;
            e.flags = KVM_MSI_VALID_DEVID;
            e.u.msi.address_lo = 0x0809'0040;
            e.u.msi.data = i;
            e.u.msi.devid = 8;
            entries.push_back(e);
        }
        const std::size_t head = 8;  // nr, flags: C's layout (g++ puts the header's entries[] at 16)
        std::unique_ptr<std::uint64_t[]> buf(new std::uint64_t[(head + entries.size() * sizeof(kvm_irq_routing_entry)) / 8 + 1]);
        auto* bytes = reinterpret_cast<std::uint8_t*>(buf.get());
        const std::uint32_t nr = routes, flags = 0;
        std::memcpy(bytes, &nr, 4);
        std::memcpy(bytes + 4, &flags, 4);
        std::memcpy(bytes + head, entries.data(), entries.size() * sizeof(kvm_irq_routing_entry));
        benchmark::DoNotOptimize(bytes);
    }
}

// FIONBIO on an eventfd: a real, cheap ioctl, answered by the VFS.
void ioctl_kvmxx(benchmark::State& state) {
    const int fd = ::eventfd(0, EFD_CLOEXEC);
    int on = 1;
    for (auto _ : state) {
        auto r = kvmxx::sys::ioctl(fd, FIONBIO, "FIONBIO", &on);
        benchmark::DoNotOptimize(r);
    }
    ::close(fd);
}
void ioctl_raw(benchmark::State& state) {
    const int fd = ::eventfd(0, EFD_CLOEXEC);
    int on = 1;
    for (auto _ : state) {
        int r = ::ioctl(fd, FIONBIO, &on);
        benchmark::DoNotOptimize(r);
    }
    ::close(fd);
}

}  // namespace

BENCHMARK(exit_decode_kvmxx)->Name("exit_decode/kvmxx");
BENCHMARK(exit_decode_raw)->Name("exit_decode/raw");
BENCHMARK(irq_route_kvmxx)->Name("irq_route_1024/kvmxx");
BENCHMARK(irq_route_raw)->Name("irq_route_1024/raw");
BENCHMARK(ioctl_kvmxx)->Name("ioctl_trace_off/kvmxx");
BENCHMARK(ioctl_raw)->Name("ioctl_trace_off/raw");

BENCHMARK_MAIN();
