// kvmxx-vmm — a small, complete VMM that boots an arm64 Linux kernel.
//
// The parts, each in its own file: options (command line), loader (the arm64
// boot protocol), fdt + board (the device tree and memory map), pl011 (the
// console), mmio_bus (routing exits to devices), pci_host (ECAM config space
// and BAR windows), passthrough + vfio_pci + passthrough_bar + msix_table (a
// vfio-pci device on the guest's bus), gsi_router (MSI routes), and here: the
// VM, the vCPU threads and the shutdown path. Read it top to bottom.
//
// kvmxx-vmm --kernel Image --initrd initramfs.cpio --cpus 2 --memory 256M --device vfio:0000:00:04.0
#include "board.hpp"
#include "boot_timer.hpp"
#include "loader.hpp"
#include "mmio_bus.hpp"
#include "options.hpp"
#include "passthrough.hpp"
#include "pci_host.hpp"
#include "pl011.hpp"

#include <kvmxx/kvmxx.hpp>

#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what, int status = 1) {
    std::fprintf(stderr, "kvmxx-vmm: %s\n", what.c_str());
    std::exit(status);
}

template <class T>
T must(kvmxx::Result<T> r, const char* doing) {
    if (!r) die(std::string(doing) + ": " + r.error().message());
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

std::vector<std::uint8_t> read_file(const std::string& path, const char* option) {
    std::ifstream f(path, std::ios::binary);
    if (!f) die(std::string("cannot read ") + option + " " + path + ": " + std::strerror(errno));
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void note(const std::string& line) {
    if (kvmxx::trace::enabled()) kvmxx::trace::emit("vmm: " + line);
}

/// How the run ends: the first vCPU (or signal) to decide sets it; all stop.
struct Stop {
    std::atomic<bool> requested{false};
    std::atomic<int> status{0};
    std::vector<kvmxx::VcpuKicker> kickers;

    void request(int s) {
        bool expected = false;
        if (requested.compare_exchange_strong(expected, true)) {
            status = s;
            for (auto& k : kickers) k.kick();
        }
    }
};

/// The VMM's exit status for a guest power event: a power-off is a success, a
/// reset (a reboot, or a panic with panic=N) only when --allow-reset asked for it,
/// anything else (a crash report, an event this VMM does not know) never.
int guest_stopped(unsigned cpu, const kvmxx::exit::SystemEvent& e, bool allow_reset) {
    const std::string who = "vCPU " + std::to_string(cpu) + ": ";
    if (e.is_shutdown()) {
        note(who + "guest power off");
        return vmm::exit_powered_off;
    }
    if (e.is_reset() && allow_reset) {
        note(who + "guest reset (--allow-reset: exit 0)");
        return vmm::exit_powered_off;
    }
    if (e.is_reset()) {
        std::fprintf(stderr, "kvmxx-vmm: %sthe guest reset (exit %d; a guest panic with panic=N resets; "
                     "--allow-reset exits 0)\n", who.c_str(), vmm::exit_reset);
        return vmm::exit_reset;
    }
    std::fprintf(stderr, "kvmxx-vmm: %sguest stopped: %s\n", who.c_str(), kvmxx::describe(kvmxx::Exit{e}).c_str());
    return 1;
}

/// One vCPU's life: run, route MMIO to the bus, stop on a guest power event.
void vcpu_loop(kvmxx::Vcpu& cpu, vmm::MmioBus& bus, Stop& stop, bool allow_reset) {
    while (!stop.requested.load()) {
        auto exit = cpu.run();
        if (!exit) {
            std::fprintf(stderr, "kvmxx-vmm: vCPU %u: %s\n", cpu.id(), exit.error().message().c_str());
            stop.request(1);
            return;
        }
        if (bus.handle(*exit) || std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) continue;
        if (auto* e = std::get_if<kvmxx::exit::SystemEvent>(&*exit)) {
            stop.request(guest_stopped(cpu.id(), *e, allow_reset));
            return;
        }
        std::fprintf(stderr, "kvmxx-vmm: vCPU %u: cannot handle %s\n", cpu.id(),
                     kvmxx::describe(*exit).c_str());
        stop.request(1);
        return;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto started = vmm::BootTimer::Clock::now();
    std::string error;
    auto parsed = vmm::parse_options({argv + 1, argv + argc}, error);
    if (!parsed) die(error, 2);  // one line; --help has the rest
    const vmm::Options& opt = *parsed;
    if (opt.help) {
        std::fputs(vmm::usage, stdout);
        return 0;
    }
    if (opt.trace) kvmxx::trace::enable();

    // The kernel and initrd, checked before anything is created.
    const auto kernel = read_file(opt.kernel, "--kernel");
    auto header = vmm::parse_image_header(kernel, error);
    if (!header) die("--kernel " + opt.kernel + ": " + error, 2);
    std::error_code size_error;  // the initrd's size is checked before it is read
    const auto initrd_size = opt.initrd.empty() ? 0 : std::filesystem::file_size(opt.initrd, size_error);
    if (size_error) die("cannot read --initrd " + opt.initrd + ": " + size_error.message());
    auto layout = vmm::plan_boot(vmm::Board::ram_base, opt.memory, *header, initrd_size, 64 << 10, error);
    if (!layout) die(error, 2);
    const auto initrd = opt.initrd.empty() ? std::vector<std::uint8_t>{} : read_file(opt.initrd, "--initrd");

    // The devices to pass through: their groups viable, in one container.
    std::string which;
    auto passthrough = vmm::Passthrough::open(opt.devices, which);
    if (!passthrough) die("--device vfio:" + which + ": " + passthrough.error().message());

    // The VM: RAM, vCPUs (secondaries powered off until the guest's PSCI CPU_ON), the GIC.
    auto kvm = must(kvmxx::Kvm::open(), "opening /dev/kvm");
    auto vm = must(kvm.create_vm(), "creating the VM");
    const auto ram = must(vm.add_memory(vmm::Board::ram_base, opt.memory), "adding guest RAM");
    note("RAM: " + std::to_string(ram.size >> 20) + " MiB at " + kvmxx::trace::hex(ram.gpa) + ", slot " +
         std::to_string(ram.slot));
    std::vector<kvmxx::Vcpu> cpus;
    for (unsigned i = 0; i < opt.cpus; ++i)
        cpus.push_back(must(vm.create_vcpu(i, {.power_off = i != 0}), "creating a vCPU"));
    kvmxx::arm64::GicLayout gic_layout;
    gic_layout.distributor = vmm::Board::gic_dist;
    gic_layout.redistributor = vmm::Board::gic_redist;
    gic_layout.its = vmm::Board::gic_its;
    gic_layout.nr_irqs = vmm::Board::gic_nr_irqs;
    auto gic = must(kvmxx::arm64::Vgic::setup(vm, gic_layout), "setting up the GICv3");

    // The PCI bus: guest RAM in the IOMMU, each device at its slot, INTx wired.
    vmm::GsiRouter router(vm, vmm::Board::spis);
    vmm::PciHost pci({{vmm::Board::pci_mmio32, vmm::Board::pci_mmio32_size},
                      {vmm::Board::pci_mmio64, vmm::Board::pci_mmio64_size}});
    if (auto r = (*passthrough)->plug(vm, ram, router, pci, which); !r)
        die("--device vfio:" + which + ": " + r.error().message());

    // The boot images, placed by the arm64 boot protocol.
    vmm::Board board{opt.cpus, opt.memory, opt.cmdline, 0, 0, (*passthrough)->slots()};
    if (!initrd.empty()) {
        board.initrd_start = layout->initrd;
        board.initrd_end = layout->initrd + initrd.size();
    }
    const auto dtb = vmm::make_fdt(board);
    must(vm.write(layout->kernel, kernel), "loading the kernel");
    if (!initrd.empty()) must(vm.write(layout->initrd, initrd), "loading the initrd");
    must(vm.write(layout->dtb, dtb), "loading the device tree");
    note("kernel at " + kvmxx::trace::hex(layout->kernel) + ", initrd at " + kvmxx::trace::hex(layout->initrd) +
         " (" + std::to_string(initrd.size()) + " bytes), dtb at " + kvmxx::trace::hex(layout->dtb) + " (" +
         std::to_string(dtb.size()) + " bytes)");

    // Boot CPU entry state: PC = kernel, x0 = DTB, x1..x3 = 0; KVM_ARM_VCPU_INIT
    // already gave EL1h with interrupts masked and the MMU off.
    namespace reg = kvmxx::arm64::reg;
    must(cpus[0].set(reg::pc, layout->kernel), "setting the entry point");
    must(cpus[0].set(reg::x(0), layout->dtb), "passing the device tree");

    vmm::Pl011 uart(stdout);
    vmm::BootTimer boot_timer(started);
    vmm::MmioBus bus;
    bus.add("pl011", vmm::Board::uart, vmm::Board::uart_size, uart);
    bus.add("boot-timer", vmm::Board::boot_timer, vmm::BootTimer::size, boot_timer);
    auto ecam = pci.ecam();
    auto mmio32 = pci.bar_window(vmm::Board::pci_mmio32);
    auto mmio64 = pci.bar_window(vmm::Board::pci_mmio64);
    if (!opt.devices.empty()) {
        bus.add("pci-ecam", vmm::Board::pci_ecam, vmm::Board::pci_ecam_size, ecam);
        bus.add("pci-mmio32", vmm::Board::pci_mmio32, vmm::Board::pci_mmio32_size, mmio32);
        bus.add("pci-mmio64", vmm::Board::pci_mmio64, vmm::Board::pci_mmio64_size, mmio64);
    }

    // One thread per vCPU. SIGINT/SIGTERM are taken by this thread only.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    Stop stop;
    for (auto& c : cpus) stop.kickers.push_back(c.kicker());
    std::vector<std::thread> threads;
    for (auto& c : cpus) threads.emplace_back(vcpu_loop, std::ref(c), std::ref(bus), std::ref(stop), opt.allow_reset);
    note(std::to_string(cpus.size()) + " vCPU thread(s) running");
    while (!stop.requested.load()) {
        timespec tick{0, 100'000'000};
        if (int sig = sigtimedwait(&signals, nullptr, &tick); sig > 0) {
            std::fprintf(stderr, "kvmxx-vmm: %s: stopping the guest\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
            stop.request(128 + sig);
        }
    }
    for (auto& t : threads) t.join();
    std::fflush(stdout);
    if (boot_timer.marked()) {  // the rest of the boot-timer figures: run time and peak memory
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        std::fprintf(stderr, "kvmxx-vmm: boot-timer: exit at %.1f ms, peak RSS %ld KiB\n", boot_timer.elapsed_ms(),
                     usage.ru_maxrss);
    }
    return stop.status.load();
}
