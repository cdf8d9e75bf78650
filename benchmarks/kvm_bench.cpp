// kvm_bench — kvmxx against hand-written raw ioctls, doing the same work on the
// same VM, vCPU and guest, in the same run (aarch64; benchmarks/run runs it in
// the testbed, with edu bound to vfio-pci for the VFIO pairs).
//
// Each pair is NAME/kvmxx and NAME/raw; benchmarks/run prints kvmxx / raw.
// The raw side uses the fds and the kvm_run page kvmxx set up: only the loop
// being measured differs.
#include <kvmxx/kvmxx.hpp>

#include <benchmark/benchmark.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>

extern "C" const std::uint8_t bench_mmio_write[], bench_mmio_write_end[], bench_mmio_read[], bench_mmio_read_end[],
    bench_ioeventfd[], bench_ioeventfd_end[];
extern "C" const std::uint8_t guest_gic_irq[], guest_gic_irq_end[];  // tests/kvm/arm64/guest.S

namespace {

constexpr std::uint64_t ram = 0x4000'0000, report = 0x0a00'0000;

std::span<const std::uint8_t> program(const std::uint8_t* b, const std::uint8_t* e) {
    return {b, static_cast<std::size_t>(e - b)};
}

/// One VM with RAM holding `code`, one vCPU at its start, optionally a GICv3.
struct Guest {
    kvmxx::Kvm kvm;
    kvmxx::Vm vm;
    kvmxx::Vcpu cpu;
    std::optional<kvmxx::arm64::Vgic> gic;

    /// `place` puts each program at its own address: QEMU's TCG (the testbed)
    /// can keep running stale translated code when a new VM's code page reuses
    /// the physical page of an old VM's code at the same guest PC.
    static std::unique_ptr<Guest> make(std::span<const std::uint8_t> code, unsigned place, bool with_gic, std::string& why) {
        const std::uint64_t entry = ram + place * 0x1'0000ull;
        auto kvm = kvmxx::Kvm::open();
        if (!kvm) return why = kvm.error().message(), nullptr;
        auto vm = kvm->create_vm();
        if (!vm) return why = vm.error().message(), nullptr;
        if (auto m = vm->add_memory(ram, 2 << 20); !m) return why = m.error().message(), nullptr;
        if (auto w = vm->write(entry, code); !w) return why = w.error().message(), nullptr;
        auto cpu = vm->create_vcpu(0, kvmxx::arm64::VcpuFeatures{});
        if (!cpu) return why = cpu.error().message(), nullptr;
        if (auto s = cpu->set(kvmxx::arm64::reg::pc, entry); !s) return why = s.error().message(), nullptr;
        std::unique_ptr<Guest> g(new Guest{std::move(*kvm), std::move(*vm), std::move(*cpu), std::nullopt});
        if (with_gic) {
            auto gic = kvmxx::arm64::Vgic::setup(g->vm, {});
            if (!gic) return why = gic.error().message(), nullptr;
            g->gic = std::move(*gic);
        }
        return g;
    }
};

/// What the vCPU stopped for, in words (for the error a benchmark stops with).
std::string what(Guest&, const kvmxx::Result<kvmxx::Exit>& exit) {
    return exit ? kvmxx::describe(*exit) : exit.error().message();
}
std::string what_raw(Guest& g) {
    kvm_run& r = g.cpu.raw_run();
    return "exit_reason=" + std::to_string(r.exit_reason) + " mmio.phys_addr=" + kvmxx::trace::hex(r.mmio.phys_addr) +
           " is_write=" + std::to_string(r.mmio.is_write) + " errno=" + std::to_string(errno);
}

#define GUEST_OR_SKIP(g, code, place, gic)                            \
    std::string why;                                                  \
    auto g = Guest::make(code, place, gic, why);                      \
    if (!g) return state.SkipWithError(("no KVM guest: " + why).c_str())

// ---- MMIO write exit: guest store → exit → run() again --------------------------

void mmio_write_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_mmio_write, bench_mmio_write_end), 1, false);
    for (auto _ : state) {
        auto exit = g->cpu.run();
        if (!exit || !std::holds_alternative<kvmxx::exit::MmioWrite>(*exit)) [[unlikely]]
            return state.SkipWithError(("not an MMIO write: " + what(*g, exit)).c_str());
    }
}
void mmio_write_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_mmio_write, bench_mmio_write_end), 1, false);
    const int fd = g->cpu.fd();
    kvm_run& run = g->cpu.raw_run();
    for (auto _ : state) {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || !run.mmio.is_write) [[unlikely]]
            return state.SkipWithError(("not an MMIO write: " + what_raw(*g)).c_str());
    }
}

// ---- MMIO read exit with a value written back --------------------------------------

void mmio_read_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_mmio_read, bench_mmio_read_end), 2, false);
    const std::uint32_t value = 0x1234'5678;
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto* read = exit ? std::get_if<kvmxx::exit::MmioRead>(&*exit) : nullptr;
        if (!read) [[unlikely]]
            return state.SkipWithError(("not an MMIO read: " + what(*g, exit)).c_str());
        std::memcpy(read->data.data(), &value, std::min(read->data.size(), sizeof value));
    }
}
void mmio_read_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_mmio_read, bench_mmio_read_end), 2, false);
    const int fd = g->cpu.fd();
    kvm_run& run = g->cpu.raw_run();
    const std::uint32_t value = 0x1234'5678;
    for (auto _ : state) {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || run.mmio.is_write) [[unlikely]]
            return state.SkipWithError(("not an MMIO read: " + what_raw(*g)).c_str());
        std::memcpy(run.mmio.data, &value, std::min<std::size_t>(run.mmio.len, sizeof value));
    }
}

// ---- irqfd: host signals → VGIC → guest handler → guest acks by MMIO -----------------
// The guest (gic_irq) reports the INTID at +8 and, after EOI, at +16.

void irqfd_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(guest_gic_irq, guest_gic_irq_end), 3, true);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !g->vm.irqfd(*ev, kvmxx::arm64::spi_gsi(5)) || !g->cpu.run()) return state.SkipWithError("setup");
    for (auto _ : state) {
        if (!ev->signal()) [[unlikely]]
            return state.SkipWithError("signal");
        for (;;) {
            auto exit = g->cpu.run();
            auto* w = exit ? std::get_if<kvmxx::exit::MmioWrite>(&*exit) : nullptr;
            if (!w) [[unlikely]]
                return state.SkipWithError("unexpected exit");
            if (w->address == report + 16) break;
        }
    }
}
void irqfd_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(guest_gic_irq, guest_gic_irq_end), 3, true);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !g->vm.irqfd(*ev, kvmxx::arm64::spi_gsi(5)) || !g->cpu.run()) return state.SkipWithError("setup");
    const int fd = g->cpu.fd(), efd = ev->fd();
    kvm_run& run = g->cpu.raw_run();
    const std::uint64_t one = 1;
    for (auto _ : state) {
        if (::write(efd, &one, 8) != 8) [[unlikely]]
            return state.SkipWithError("signal");
        for (;;) {
            if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || !run.mmio.is_write) [[unlikely]]
                return state.SkipWithError("unexpected exit");
            if (run.mmio.phys_addr == report + 16) break;
        }
    }
}

// ---- ioeventfd: guest write → eventfd readable ----------------------------------------

void ioeventfd_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_ioeventfd, bench_ioeventfd_end), 4, false);
    auto ev = kvmxx::EventFd::create({.nonblocking = true});
    if (!ev || !g->vm.ioeventfd(*ev, {.address = report + 0x1000, .length = 4})) return state.SkipWithError("setup");
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto n = ev->try_read();
        if (!exit || !n || *n != 1u) [[unlikely]]
            return state.SkipWithError(("the eventfd was not signalled once: " + what(*g, exit) + " count=" +
                                        (n && *n ? std::to_string(**n) : "none")).c_str());
    }
}
void ioeventfd_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, program(bench_ioeventfd, bench_ioeventfd_end), 4, false);
    auto ev = kvmxx::EventFd::create({.nonblocking = true});
    if (!ev || !g->vm.ioeventfd(*ev, {.address = report + 0x1000, .length = 4})) return state.SkipWithError("setup");
    const int fd = g->cpu.fd(), efd = ev->fd();
    for (auto _ : state) {
        std::uint64_t n = 0;
        if (::ioctl(fd, KVM_RUN, 0) < 0 || ::read(efd, &n, 8) != 8 || n != 1) [[unlikely]]
            return state.SkipWithError(("the eventfd was not signalled once: " + what_raw(*g) + " count=" + std::to_string(n)).c_str());
    }
}

// ---- VFIO: edu (0000:00:04.0, bound to vfio-pci by benchmarks/run) ------------------------

struct Edu {
    kvmxx::VfioContainer container;
    kvmxx::VfioGroup group;
    kvmxx::VfioDevice dev;
    kvmxx::Mapping bar;
    std::uint64_t bar_offset = 0;

    static Edu* get(std::string& why) {
        static std::unique_ptr<Edu> edu = [&]() -> std::unique_ptr<Edu> {
            const char* bdf = "0000:00:04.0";
            auto c = kvmxx::VfioContainer::open();
            if (!c) return why = c.error().message(), nullptr;
            auto g = kvmxx::VfioGroup::for_device(bdf);
            if (!g) return why = g.error().message(), nullptr;
            if (auto a = c->attach(*g); !a) return why = a.error().message(), nullptr;
            auto d = g->device(bdf);
            if (!d) return why = d.error().message(), nullptr;
            if (auto e = d->enable_memory_and_bus_master(); !e) return why = e.error().message(), nullptr;
            auto info = d->region_info(kvmxx::vfio::region::bar0);
            auto m = d->mmap(kvmxx::vfio::region::bar0);
            if (!info || !m) return why = "BAR0 of edu", nullptr;
            return std::unique_ptr<Edu>(new Edu{std::move(*c), std::move(*g), std::move(*d), std::move(*m), info->offset});
        }();
        return edu.get();
    }
    volatile std::uint32_t* regs() const { return reinterpret_cast<volatile std::uint32_t*>(bar.data()); }
};

#define EDU_OR_SKIP(e)    \
    std::string why;      \
    Edu* e = Edu::get(why); \
    if (!e) return state.SkipWithError(("no edu on vfio-pci: " + why).c_str())

// Mapping a BAR: VfioDevice::mmap (VFIO_DEVICE_GET_REGION_INFO, then mmap of the
// region's offset, owned by a Mapping) against the same two calls by hand. A load
// through the mapping is the same instruction on both sides, so that is not a pair.
void bar_map_kvmxx(benchmark::State& state) {
    EDU_OR_SKIP(e);
    for (auto _ : state) {
        auto m = e->dev.mmap(kvmxx::vfio::region::bar0);
        if (!m) [[unlikely]]
            return state.SkipWithError(m.error().message().c_str());
        benchmark::DoNotOptimize(m->data());
    }  // ~Mapping: munmap
}
void bar_map_raw(benchmark::State& state) {
    EDU_OR_SKIP(e);
    for (auto _ : state) {
        vfio_region_info info{.argsz = sizeof info, .flags = 0, .index = VFIO_PCI_BAR0_REGION_INDEX, .cap_offset = 0,
                              .size = 0, .offset = 0};
        if (::ioctl(e->dev.fd(), VFIO_DEVICE_GET_REGION_INFO, &info) < 0) [[unlikely]]
            return state.SkipWithError("VFIO_DEVICE_GET_REGION_INFO");
        void* p = ::mmap(nullptr, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, e->dev.fd(), static_cast<off_t>(info.offset));
        if (p == MAP_FAILED) [[unlikely]]
            return state.SkipWithError("mmap");
        benchmark::DoNotOptimize(p);
        ::munmap(p, info.size);
    }
}

void bar_read_region_kvmxx(benchmark::State& state) {
    EDU_OR_SKIP(e);
    for (auto _ : state) {
        auto v = e->dev.read_as<std::uint32_t>(kvmxx::vfio::region::bar0, 0);
        if (!v) [[unlikely]]
            return state.SkipWithError("read");
        benchmark::DoNotOptimize(*v);
    }
}
void bar_read_region_raw(benchmark::State& state) {
    EDU_OR_SKIP(e);
    for (auto _ : state) {
        std::uint32_t v;
        if (::pread(e->dev.fd(), &v, 4, static_cast<off_t>(e->bar_offset)) != 4) [[unlikely]]
            return state.SkipWithError("pread");
        benchmark::DoNotOptimize(v);
    }
}

// INTx: edu raises (0x60) → vfio-pci masks the line and signals the eventfd →
// we read it, ack edu (0x64) and unmask (VFIO_DEVICE_SET_IRQS UNMASK).
constexpr unsigned edu_raise = 0x60 / 4, edu_ack = 0x64 / 4;

void intx_kvmxx(benchmark::State& state) {
    EDU_OR_SKIP(e);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !e->dev.set_irq(kvmxx::vfio::Irq::Intx, *ev)) return state.SkipWithError("setup");
    for (auto _ : state) {
        e->regs()[edu_raise] = 1;
        if (!ev->wait()) [[unlikely]]
            return state.SkipWithError("wait");
        e->regs()[edu_ack] = 1;
        if (!e->dev.unmask(kvmxx::vfio::Irq::Intx)) [[unlikely]]
            return state.SkipWithError("unmask");
    }
    (void)e->dev.disable_irqs(kvmxx::vfio::Irq::Intx);
}
void intx_raw(benchmark::State& state) {
    EDU_OR_SKIP(e);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !e->dev.set_irq(kvmxx::vfio::Irq::Intx, *ev)) return state.SkipWithError("setup");
    vfio_irq_set unmask{};
    unmask.argsz = sizeof unmask;
    unmask.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK;
    unmask.index = VFIO_PCI_INTX_IRQ_INDEX;
    unmask.count = 1;
    const int efd = ev->fd(), dfd = e->dev.fd();
    for (auto _ : state) {
        e->regs()[edu_raise] = 1;
        std::uint64_t n;
        if (::read(efd, &n, 8) != 8) [[unlikely]]
            return state.SkipWithError("read");
        e->regs()[edu_ack] = 1;
        if (::ioctl(dfd, VFIO_DEVICE_SET_IRQS, &unmask) < 0) [[unlikely]]
            return state.SkipWithError("unmask");
    }
    (void)e->dev.disable_irqs(kvmxx::vfio::Irq::Intx);
}

}  // namespace

BENCHMARK(mmio_write_kvmxx)->Name("mmio_write_exit/kvmxx");
BENCHMARK(mmio_write_raw)->Name("mmio_write_exit/raw");
BENCHMARK(mmio_read_kvmxx)->Name("mmio_read_exit/kvmxx");
BENCHMARK(mmio_read_raw)->Name("mmio_read_exit/raw");
BENCHMARK(irqfd_kvmxx)->Name("irqfd_to_guest_ack/kvmxx");
BENCHMARK(irqfd_raw)->Name("irqfd_to_guest_ack/raw");
BENCHMARK(ioeventfd_kvmxx)->Name("ioeventfd/kvmxx");
BENCHMARK(ioeventfd_raw)->Name("ioeventfd/raw");
BENCHMARK(bar_map_kvmxx)->Name("vfio_bar_map/kvmxx");
BENCHMARK(bar_map_raw)->Name("vfio_bar_map/raw");
BENCHMARK(bar_read_region_kvmxx)->Name("vfio_bar_read_region/kvmxx");
BENCHMARK(bar_read_region_raw)->Name("vfio_bar_read_region/raw");
BENCHMARK(intx_kvmxx)->Name("vfio_intx_to_eventfd/kvmxx");
BENCHMARK(intx_raw)->Name("vfio_intx_to_eventfd/raw");

BENCHMARK_MAIN();
