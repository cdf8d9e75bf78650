// instr_count — user-space instructions per operation, kvmxx beside the same work
// written with raw syscalls, on the host's /dev/kvm (x86_64). Run it under
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=F instr_count
// (benchmarks/run does, and reads the dumps): each operation is warmed up once, then
// run `n` times with callgrind collecting, and dumped as "NAME SIDE n". Instructions
// the kernel executes are not counted (callgrind sees user space only), so
// added = kvmxx - raw is exactly what the wrapper costs on the CPU in user space.
// Outside valgrind the client requests do nothing; the allocation count still works.
//
// Also counts heap allocations (a replaced operator new: every std::string,
// std::vector and std::shared_ptr allocation goes through it) during the kvmxx exit
// loops and prints "bench allocs_per_exit value=N".
#include "x86_guest.hpp"

#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define INSTR_HAVE_CALLGRIND 1
#else
#define INSTR_HAVE_CALLGRIND 0
#endif

// ---- the allocation hook ----------------------------------------------------------

namespace {
std::atomic<unsigned long> allocations{0};
void* counted(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* counted_aligned(std::size_t n, std::align_val_t a) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    const auto align = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try { return counted(n); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try { return counted(n); } catch (...) { return nullptr; }
}
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using xbench::Guest;
using xbench::Program;

/// Keeps a value alive without costing an instruction of its own (the compiler must
/// have it in a register or memory, nothing more).
template <class T>
inline void keep(const T& v) {
    asm volatile("" : : "r,m"(v) : "memory");
}

bool failed = false;
void fail(const std::string& what) {
    if (!failed) std::fprintf(stderr, "instr_count: %s\n", what.c_str());
    failed = true;
}

/// Runs `body` once (lazy binding, first-touch faults and caches happen here, not in
/// the count), then `n` times with callgrind collecting, then dumps as "NAME SIDE n".
template <class Body>
void count(const char* name, const char* side, unsigned n, Body&& body) {
    if (!body()) return fail(std::string(name) + " " + side + ": the operation failed on its warm-up run");
    const std::string label = std::string(name) + " " + side + " " + std::to_string(n);
#if INSTR_HAVE_CALLGRIND
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
#endif
    bool ok = true;
    for (unsigned i = 0; i < n; ++i) ok &= body();
#if INSTR_HAVE_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label.c_str());
#endif
    if (!ok) fail(label + ": the operation failed");
}

std::unique_ptr<Guest> guest(Program p) {
    std::string why;
    auto g = Guest::make(p, why);
    if (!g) fail("no KVM guest: " + why);
    return g;
}

constexpr unsigned n_exit = 2000, n_fd = 2000, n_route = 50;

// ---- exits ----------------------------------------------------------------------------

void mmio_write_exit() {
    auto a = guest(Program::MmioWrite), b = guest(Program::MmioWrite);
    if (!a || !b) return;
    count("mmio_write_exit", "kvmxx", n_exit, [&cpu = a->cpu] {
        auto exit = cpu.run();
        auto* w = exit ? std::get_if<kvmxx::exit::MmioWrite>(&*exit) : nullptr;
        if (!w || w->address != xbench::mmio) [[unlikely]]
            return false;
        keep(w->value());
        return true;
    });
    count("mmio_write_exit", "raw", n_exit, [fd = b->cpu.fd(), &run = b->cpu.raw_run()] {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || !run.mmio.is_write ||
            run.mmio.len > 8 || run.mmio.phys_addr != xbench::mmio) [[unlikely]]
            return false;
        std::uint64_t v = 0;
        std::memcpy(&v, run.mmio.data, run.mmio.len);
        keep(v);
        return true;
    });
}

void mmio_read_exit() {
    auto a = guest(Program::MmioRead), b = guest(Program::MmioRead);
    if (!a || !b) return;
    count("mmio_read_exit", "kvmxx", n_exit, [&cpu = a->cpu] {
        auto exit = cpu.run();
        auto* r = exit ? std::get_if<kvmxx::exit::MmioRead>(&*exit) : nullptr;
        if (!r || r->address != xbench::mmio) [[unlikely]]
            return false;
        r->set(0x1234'5678);
        return true;
    });
    count("mmio_read_exit", "raw", n_exit, [fd = b->cpu.fd(), &run = b->cpu.raw_run()] {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_MMIO || run.mmio.is_write ||
            run.mmio.len > 8 || run.mmio.phys_addr != xbench::mmio) [[unlikely]]
            return false;
        const std::uint64_t v = 0x1234'5678;
        std::memcpy(run.mmio.data, &v, run.mmio.len);
        return true;
    });
}

void pio_out_exit() {
    auto a = guest(Program::PioOut), b = guest(Program::PioOut);
    if (!a || !b) return;
    count("pio_out_exit", "kvmxx", n_exit, [&cpu = a->cpu] {
        auto exit = cpu.run();
        auto* o = exit ? std::get_if<kvmxx::exit::IoOut>(&*exit) : nullptr;
        if (!o || o->port != xbench::port) [[unlikely]]
            return false;
        keep(o->value());
        return true;
    });
    count("pio_out_exit", "raw", n_exit, [fd = b->cpu.fd(), &run = b->cpu.raw_run(), size = b->kvm.vcpu_mmap_size().value_or(4096)] {
        if (::ioctl(fd, KVM_RUN, 0) < 0 || run.exit_reason != KVM_EXIT_IO || run.io.direction != KVM_EXIT_IO_OUT ||
            run.io.port != xbench::port || run.io.size > 4 || run.io.data_offset > size - 4) [[unlikely]]
            return false;
        std::uint32_t v = 0;
        std::memcpy(&v, reinterpret_cast<const std::uint8_t*>(&run) + run.io.data_offset, run.io.size);
        keep(v);
        return true;
    });
}

/// Heap allocations over many kvmxx exits (MMIO write, MMIO read, PIO out), per exit.
void allocs_per_exit() {
    auto w = guest(Program::MmioWrite), r = guest(Program::MmioRead), o = guest(Program::PioOut);
    if (!w || !r || !o) return;
    constexpr unsigned n = 1000;
    for (auto* g : {w.get(), r.get(), o.get()})  // warm up: anything lazily made on a first run
        if (!g->cpu.run()) return fail("allocs_per_exit: run() failed");
    const unsigned long before = allocations.load();
    for (unsigned i = 0; i < n; ++i) {
        auto a = w->cpu.run();
        auto b = r->cpu.run();
        auto c = o->cpu.run();
        if (!a || !b || !c) return fail("allocs_per_exit: run() failed");
        if (auto* rd = std::get_if<kvmxx::exit::MmioRead>(&*b)) rd->set(1);
        keep(*a);
        keep(*c);
    }
    const unsigned long made = allocations.load() - before;
    std::printf("bench allocs_per_exit value=%lu (%lu allocations in %u exits)\n", made / (3 * n), made, 3 * n);
}

// ---- eventfds ---------------------------------------------------------------------------

void eventfd_ops() {
    auto a = kvmxx::EventFd::create({.semaphore = true}), b = kvmxx::EventFd::create({.semaphore = true});
    if (!a || !b) return fail("eventfd: " + (a ? b.error().message() : a.error().message()));
    count("eventfd_signal", "kvmxx", n_fd, [&ev = *a] { return ev.signal().has_value(); });
    count("eventfd_signal", "raw", n_fd, [fd = b->fd()] {
        const std::uint64_t one = 1;
        return ::write(fd, &one, sizeof one) == static_cast<ssize_t>(sizeof one);
    });
    // Both counters now hold n + 1; in semaphore mode each read takes 1, so none blocks.
    count("eventfd_read", "kvmxx", n_fd - 1, [&ev = *a] {
        auto v = ev.wait();
        return v && *v == 1;
    });
    count("eventfd_read", "raw", n_fd - 1, [fd = b->fd()] {
        std::uint64_t v = 0;
        return ::read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v) && v == 1;
    });

    auto c = kvmxx::EventFd::create({.nonblocking = true, .semaphore = true});
    auto d = kvmxx::EventFd::create({.nonblocking = true, .semaphore = true});
    if (!c || !d || !c->signal(n_fd + 1) || !d->signal(n_fd + 1)) return fail("eventfd: non-blocking pair");
    count("eventfd_try_read", "kvmxx", n_fd, [&ev = *c] {
        auto v = ev.try_read();
        return v && *v && **v == 1;
    });
    count("eventfd_try_read", "raw", n_fd, [fd = d->fd()] {
        std::uint64_t v = 0;
        return ::read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v) && v == 1;
    });
}

// ---- the VM's interrupt plumbing ------------------------------------------------------------

void irqfd_assign() {
    auto g = guest(Program::Irq);
    if (!g) return;
    auto ev = kvmxx::EventFd::create();
    if (!ev) return fail("irqfd: " + ev.error().message());
    count("irqfd_assign_deassign", "kvmxx", n_fd, [&vm = g->vm, &ev = *ev] {
        return vm.irqfd(ev, xbench::irq).has_value() && vm.remove_irqfd(ev, xbench::irq).has_value();
    });
    count("irqfd_assign_deassign", "raw", n_fd, [vmfd = g->vm.fd(), efd = ev->fd()] {
        kvm_irqfd a{};
        a.fd = static_cast<std::uint32_t>(efd);
        a.gsi = xbench::irq;
        if (::ioctl(vmfd, KVM_IRQFD, &a) < 0) return false;
        a.flags = KVM_IRQFD_FLAG_DEASSIGN;
        return ::ioctl(vmfd, KVM_IRQFD, &a) == 0;
    });
}

// 24 IOAPIC pins and 1,000 MSIs: 1,024 entries, built and committed.
constexpr std::uint32_t routes = 1024, pins = 24;

void irq_route_1024() {
    auto g = guest(Program::Irq);
    if (!g) return;
    count("irq_route_1024", "kvmxx", n_route, [&vm = g->vm] {
        kvmxx::IrqRoute route;
        for (std::uint32_t i = 0; i < pins; ++i) route.add_irqchip(i, KVM_IRQCHIP_IOAPIC, i);
        for (std::uint32_t i = pins; i < routes; ++i)
            route.add_msi(i, {.address = 0xfee0'0000, .data = 0x4000 | i});
        return vm.set_routes(route).has_value();
    });
    count("irq_route_1024", "raw", n_route, [vmfd = g->vm.fd()] {
        std::vector<kvm_irq_routing_entry> entries;  // built up as one would, then packed
        for (std::uint32_t i = 0; i < pins; ++i) {
            kvm_irq_routing_entry e{};
            e.gsi = i;
            e.type = KVM_IRQ_ROUTING_IRQCHIP;
            e.u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
            e.u.irqchip.pin = i;
            entries.push_back(e);
        }
        for (std::uint32_t i = pins; i < routes; ++i) {
            kvm_irq_routing_entry e{};
            e.gsi = i;
            e.type = KVM_IRQ_ROUTING_MSI;
            e.u.msi.address_lo = 0xfee0'0000;
            e.u.msi.data = 0x4000 | i;
            entries.push_back(e);
        }
        // nr and flags, then the entries: what C lays out. (g++ puts the header's entries[]
        // at offset 16 and computes another ioctl number from it: kvmxx/uapi.hpp.)
        const std::size_t head = 8;
        std::unique_ptr<std::uint64_t[]> buf(new std::uint64_t[(head + entries.size() * sizeof(kvm_irq_routing_entry)) / 8 + 1]);
        auto* bytes = reinterpret_cast<std::uint8_t*>(buf.get());
        const std::uint32_t nr = routes, flags = 0;
        std::memcpy(bytes, &nr, 4);
        std::memcpy(bytes + 4, &flags, 4);
        std::memcpy(bytes + head, entries.data(), entries.size() * sizeof(kvm_irq_routing_entry));
        return ::ioctl(vmfd, 0x4008ae6aUL, bytes) == 0;  // KVM_SET_GSI_ROUTING as C computes it
    });
}

// ---- the trace, off: a wrapper's ioctl whose description is never built ---------------------

void ioctl_trace_off() {
    const int fd = ::eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return fail("eventfd");
    kvmxx::trace::disable();
    int on = 1;
    count("ioctl_trace_off", "kvmxx", n_fd, [fd, &on] {
        return kvmxx::sys::ioctl(fd, FIONBIO, "FIONBIO", &on, [fd] { return kvmxx::trace::Args().dec("fd", static_cast<unsigned>(fd)).take(); })
            .has_value();
    });
    count("ioctl_trace_off", "raw", n_fd, [fd, &on] { return ::ioctl(fd, FIONBIO, &on) == 0; });
    ::close(fd);
}

}  // namespace

int main() {
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
        std::printf("instr_count: SKIPPED: no usable /dev/kvm here (the exit counts need the host's KVM)\n");
        return 0;
    }
#if !INSTR_HAVE_CALLGRIND
    std::printf("instr_count: built without valgrind/callgrind.h: only the allocation count is real\n");
#endif
    kvmxx::trace::disable();
    mmio_write_exit();
    mmio_read_exit();
    pio_out_exit();
    allocs_per_exit();
    eventfd_ops();
    irqfd_assign();
    irq_route_1024();
    ioctl_trace_off();
    return failed ? 1 : 0;
}
