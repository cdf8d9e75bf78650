// hostkvm_bench — the exit pairs on the build host's own /dev/kvm (x86_64), timed:
// kvmxx against hand-written raw ioctls on the same kind of VM, plus an A/A pair
// (the raw loop under a second name) that shows what noise alone makes of a ratio.
//
// Each pair is NAME/kvmxx, NAME/raw and NAME/raw_again; benchmarks/run interleaves
// 5 repetitions of all of them and prints kvmxx / raw and raw_again / raw.
// Each benchmark makes its own VM (outside the timed loop); the raw side uses the
// fds and the kvm_run page kvmxx set up: only the loop being measured differs.
#include "x86_guest.hpp"

#include <benchmark/benchmark.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

using xbench::Guest;
using xbench::Program;

std::string what(const kvmxx::Result<kvmxx::Exit>& exit) {
    return exit ? kvmxx::describe(*exit) : exit.error().message();
}
std::string what_raw(const kvm_run& r) {
    return "exit_reason=" + std::to_string(r.exit_reason) + " errno=" + std::to_string(errno);
}

#define GUEST_OR_SKIP(g, program)                                   \
    std::string why;                                                \
    auto g = Guest::make(program, why);                             \
    if (!g) return state.SkipWithError(("no KVM guest: " + why).c_str())

// ---- MMIO write: guest store → KVM_EXIT_MMIO → run() again ------------------------

void mmio_write_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::MmioWrite);
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto* w = exit ? std::get_if<kvmxx::exit::MmioWrite>(&*exit) : nullptr;
        if (!w || w->address != xbench::mmio) [[unlikely]]
            return state.SkipWithError(("not the MMIO write: " + what(exit)).c_str());
    }
}
void mmio_write_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::MmioWrite);
    const int fd = g->cpu.fd();
    kvm_run& run = g->cpu.raw_run();
    for (auto _ : state) {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || !run.mmio.is_write ||
            run.mmio.phys_addr != xbench::mmio) [[unlikely]]
            return state.SkipWithError(("not the MMIO write: " + what_raw(run)).c_str());
    }
}

// ---- MMIO read with a value written back -----------------------------------------

void mmio_read_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::MmioRead);
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto* r = exit ? std::get_if<kvmxx::exit::MmioRead>(&*exit) : nullptr;
        if (!r) [[unlikely]]
            return state.SkipWithError(("not an MMIO read: " + what(exit)).c_str());
        r->set(0x1234'5678);
    }
}
void mmio_read_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::MmioRead);
    const int fd = g->cpu.fd();
    kvm_run& run = g->cpu.raw_run();
    const std::uint32_t value = 0x1234'5678;
    for (auto _ : state) {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || run.mmio.is_write ||
            run.mmio.len > 8) [[unlikely]]
            return state.SkipWithError(("not an MMIO read: " + what_raw(run)).c_str());
        std::memcpy(run.mmio.data, &value, std::min<std::size_t>(run.mmio.len, sizeof value));
    }
}

// ---- PIO out: guest OUT → KVM_EXIT_IO → run() again -------------------------------

void pio_out_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::PioOut);
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto* o = exit ? std::get_if<kvmxx::exit::IoOut>(&*exit) : nullptr;
        if (!o || o->port != xbench::port) [[unlikely]]
            return state.SkipWithError(("not the OUT: " + what(exit)).c_str());
    }
}
void pio_out_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::PioOut);
    const int fd = g->cpu.fd();
    kvm_run& run = g->cpu.raw_run();
    for (auto _ : state) {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_IO || run.io.direction != KVM_EXIT_IO_OUT ||
            run.io.port != xbench::port) [[unlikely]]
            return state.SkipWithError(("not the OUT: " + what_raw(run)).c_str());
    }
}

// ---- ioeventfd: guest store → eventfd signalled in the kernel; an OUT brings us back -

void ioeventfd_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::Ioeventfd);
    auto ev = kvmxx::EventFd::create({.nonblocking = true});
    if (!ev || !g->vm.ioeventfd(*ev, {.address = xbench::doorbell, .length = 4})) return state.SkipWithError("setup");
    for (auto _ : state) {
        auto exit = g->cpu.run();
        auto n = ev->try_read();
        if (!exit || !n || *n != 1u) [[unlikely]]
            return state.SkipWithError(("the eventfd was not signalled once: " + what(exit)).c_str());
    }
}
void ioeventfd_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::Ioeventfd);
    auto ev = kvmxx::EventFd::create({.nonblocking = true});
    if (!ev || !g->vm.ioeventfd(*ev, {.address = xbench::doorbell, .length = 4})) return state.SkipWithError("setup");
    const int fd = g->cpu.fd(), efd = ev->fd();
    kvm_run& run = g->cpu.raw_run();
    for (auto _ : state) {
        std::uint64_t n = 0;
        if (::ioctl(fd, KVM_RUN, 0) < 0 || ::read(efd, &n, 8) != 8 || n != 1) [[unlikely]]
            return state.SkipWithError(("the eventfd was not signalled once: " + what_raw(run)).c_str());
    }
}

// ---- irqfd: host signals → PIC → guest handler (OUT 0x501) → EOI → OUT 0x502 ---------

void irqfd_kvmxx(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::Irq);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !g->vm.irqfd(*ev, xbench::irq)) return state.SkipWithError("setup");
    for (auto _ : state) {
        if (!ev->signal()) [[unlikely]]
            return state.SkipWithError("signal");
        for (;;) {
            auto exit = g->cpu.run();
            auto* o = exit ? std::get_if<kvmxx::exit::IoOut>(&*exit) : nullptr;
            if (!o) [[unlikely]]
                return state.SkipWithError(("unexpected exit: " + what(exit)).c_str());
            if (o->port == xbench::port_eoi) break;
        }
    }
}
void irqfd_raw(benchmark::State& state) {
    GUEST_OR_SKIP(g, Program::Irq);
    auto ev = kvmxx::EventFd::create();
    if (!ev || !g->vm.irqfd(*ev, xbench::irq)) return state.SkipWithError("setup");
    const int fd = g->cpu.fd(), efd = ev->fd();
    kvm_run& run = g->cpu.raw_run();
    const std::uint64_t one = 1;
    for (auto _ : state) {
        if (::write(efd, &one, 8) != 8) [[unlikely]]
            return state.SkipWithError("signal");
        for (;;) {
            if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_IO) [[unlikely]]
                return state.SkipWithError(("unexpected exit: " + what_raw(run)).c_str());
            if (run.io.port == xbench::port_eoi) break;
        }
    }
}

}  // namespace

// The raw side twice: NAME/raw_again against NAME/raw is the A/A pair (the noise floor).
#define PAIR(name, fn)                                   \
    BENCHMARK(fn##_kvmxx)->Name(#name "/kvmxx");        \
    BENCHMARK(fn##_raw)->Name(#name "/raw");            \
    BENCHMARK(fn##_raw)->Name(#name "/raw_again")

PAIR(mmio_write_exit, mmio_write);
PAIR(mmio_read_exit, mmio_read);
PAIR(pio_out_exit, pio_out);
PAIR(ioeventfd, ioeventfd);
PAIR(irqfd_to_guest_ack, irqfd);

BENCHMARK_MAIN();
