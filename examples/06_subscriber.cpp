// Example 6 — KVM subscribes, it does not intercept. Measured.
//
// Every interrupt on this machine is taken first by the host kernel's own IRQ
// code, which calls whichever driver registered for it: the host's timer, its
// UART, its NVMe disk (driven by the host's nvme driver), and edu's INTx, which
// vfio-pci registered for. Only vfio-pci's handler signals an eventfd, and KVM
// learns only of the eventfd it was handed with KVM_IRQFD. This program counts
// both sides: the host's /proc/interrupts before and after, and what the guest's
// handler received. Then it takes the subscription back (KVM_IRQFD DEASSIGN):
// the host still takes edu's interrupt, vfio-pci still signals the eventfd, the
// count waits there for us, and the guest sees nothing.
//
// Usage: 06_subscriber [BDF [DISK]]   (default 0000:00:04.0, an edu bound to
//        vfio-pci, and /dev/nvme0n1, a disk on the host's nvme driver)
#include "gic_guest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using example::must;
namespace arm64 = kvmxx::arm64;
namespace vfio = kvmxx::vfio;
using namespace std::chrono_literals;

// The guest's IRQ handler (example 5's, reporting only the INTID). x5 = edu's BAR0.
constexpr std::uint32_t irq_handler[] = {
    0xd538cc03,  // mrs  x3, ICC_IAR1_EL1     acknowledge: x3 = INTID
    0xf9000423,  // str  x3, [x1, #8]         report it: the guest's own count of what it received
    0xb94024a4,  // ldr  w4, [x5, #0x24]      edu interrupt status
    0xb90064a4,  // str  w4, [x5, #0x64]      edu acknowledge: the device lowers INTx
    0xd5033f9f,  // dsb  sy
    0xd518cc23,  // msr  ICC_EOIR1_EL1, x3    EOI → KVM signals the resample eventfd
    0xd5033fdf,  // isb
    0xd69f03e0,  // eret
};

// ---- the host's side: /proc/interrupts -------------------------------------------

/// What the host took, per source: a line of /proc/interrupts summed over the CPUs.
struct HostCounts {
    unsigned long long timer = 0, uart = 0, nvme = 0, edu = 0;
};

/// Reads /proc/interrupts. A line is "IRQ: count-per-CPU... chip hwirq type name";
/// the name says whose handler runs: the kernel registered it with request_irq().
HostCounts host_counts(const std::string& edu_name) {
    std::ifstream file("/proc/interrupts");
    std::string line;
    std::getline(file, line);  // "CPU0 CPU1 ...": how many count columns follow
    std::istringstream header(line);
    int cpus = 0;
    for (std::string word; header >> word;) ++cpus;
    HostCounts c;
    while (std::getline(file, line)) {
        std::istringstream in(line);
        std::string irq;
        unsigned long long sum = 0, n = 0;
        in >> irq;
        for (int i = 0; i < cpus && in >> n; ++i) sum += n;
        if (line.find("arch_timer") != std::string::npos) c.timer += sum;
        if (line.find("uart-pl011") != std::string::npos) c.uart += sum;
        if (line.find("nvme") != std::string::npos) c.nvme += sum;  // nvme0q0, nvme0q1, ...: one per queue
        if (line.find(edu_name) != std::string::npos) c.edu += sum;
    }
    return c;
}

HostCounts operator-(const HostCounts& after, const HostCounts& before) {
    return {after.timer - before.timer, after.uart - before.uart, after.nvme - before.nvme, after.edu - before.edu};
}

/// A host program reading the disk while the guest runs: O_DIRECT skips the page
/// cache, so every read is an NVMe command whose completion interrupts the host.
class DiskReader {
public:
    explicit DiskReader(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_DIRECT)) {
        if (fd_ >= 0) thread_ = std::jthread([this](std::stop_token stop) { read_until(stop); });
    }
    ~DiskReader() {
        thread_ = {};  // request stop and join, before the fd goes
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    unsigned long long reads() const { return reads_.load(); }

private:
    void read_until(std::stop_token stop) {
        alignas(4096) static unsigned char block[4096];  // O_DIRECT wants an aligned buffer
        off_t at = 0;
        while (!stop.stop_requested()) {
            const ssize_t n = ::pread(fd_, block, sizeof block, at);
            if (n <= 0) { at = 0; continue; }  // the end of the disk: start over
            at += n;
            ++reads_;
        }
    }
    int fd_;
    std::atomic<unsigned long long> reads_{0};
    std::jthread thread_;
};

// ---- the guest's side: what its handler received --------------------------------

/// The guest's count of interrupts it received, by whether it was edu's INTID.
struct GuestSaw {
    unsigned long long edu = 0, other = 0;
};

/// Runs the guest for `how_long` (then a kick from another thread ends KVM_RUN),
/// counting the interrupts its handler reports.
void run_guest(kvmxx::Vcpu& cpu, std::chrono::milliseconds how_long, std::uint64_t edu_intid, GuestSaw& saw) {
    std::jthread timer([kick = cpu.kicker(), how_long] {
        std::this_thread::sleep_for(how_long);
        kick.kick();
    });
    for (;;) {
        auto exit = must(cpu.run());
        if (std::holds_alternative<kvmxx::exit::Interrupted>(exit)) return;
        auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit);
        if (!w || w->address != example::report + 8) {
            EXAMPLE_SAY(unexpected_exit, kvmxx::describe(exit).c_str());
            std::exit(1);
        }
        (w->value() == edu_intid ? saw.edu : saw.other) += 1;
    }
}

/// Every number is checked here: a mismatch names the check and fails the example.
#define EXAMPLE_CHECK(condition) \
    if (!(condition)) return EXAMPLE_SAY(ex6_check_failed, #condition), 1

int main(int argc, char** argv) {
    const std::string bdf = argc > 1 ? argv[1] : "0000:00:04.0";
    const std::string disk = argc > 2 ? argv[2] : "/dev/nvme0n1";
    constexpr std::uint64_t ram_base = 0x4000'0000, bar_gpa = 0x1000'0000;
    constexpr std::uint32_t spi = 6;  // INTID 38, level, like the INTx line behind it
    constexpr unsigned windows = 5, more = 3;
    constexpr auto window = 300ms;

    // The VM, its GIC, and edu passed through with INTx → irqfd: example 5's chain.
    auto kvm = must(kvmxx::Kvm::open());
    auto vm = must(kvm.create_vm());
    auto ram = must(vm.add_memory(ram_base, 0x10000));
    auto cpu = must(vm.create_vcpu(0, {}));
    example::load_gic_guest(ram, cpu, ram_base, ram_base + 0x1000, irq_handler);
    auto gic = must(arm64::Vgic::setup(vm, {}));
    auto container = must(kvmxx::VfioContainer::open());
    auto group = must(kvmxx::VfioGroup::for_device(bdf));
    must(group.check_viable());
    must(container.attach(group));
    auto dev = must(group.device(bdf));
    must(dev.enable_memory_and_bus_master());
    auto bar0 = must(dev.mmap(vfio::region::bar0));
    must(vm.add_user_memory(bar_gpa, bar0.bytes()));
    must(cpu.set(arm64::reg::x(5), bar_gpa));
    auto trigger = must(kvmxx::EventFd::create());
    auto unmask = must(kvmxx::EventFd::create());
    must(dev.set_irq(vfio::Irq::Intx, trigger));            // VFIO_DEVICE_SET_IRQS: request_irq("vfio-intx(BDF)")
    must(dev.set_unmask_eventfd(vfio::Irq::Intx, unmask));
    must(vm.irqfd(trigger, arm64::spi_gsi(spi), unmask));   // KVM subscribes to `trigger`, and to nothing else
    const std::uint64_t edu_intid = arm64::spi_intid(spi);
    EXAMPLE_SAY(ex6_chain, bdf.c_str(), trigger.event_fd(), arm64::spi_gsi(spi), arm64::spi_intid(spi));
    example::next_report(cpu);  // the guest's GIC driver is ready

    auto reg = [&](std::size_t offset) -> volatile std::uint32_t& {
        return *reinterpret_cast<volatile std::uint32_t*>(bar0.data() + offset);
    };
    const std::string edu_name = "vfio-intx(" + bdf + ")";

    // 1. Subscribed. The host's disk is busy, its timer ticks, edu interrupts.
    DiskReader reader(disk);
    if (!reader.ok()) return EXAMPLE_SAY(ex6_no_disk, disk.c_str()), 1;
    EXAMPLE_SAY(ex6_disk, disk.c_str());
    GuestSaw saw;
    const auto before = host_counts(edu_name);
    for (unsigned i = 1; i <= windows; ++i) {
        reg(0x60) = i;  // edu raises INTx
        run_guest(cpu, window, edu_intid, saw);
    }
    const auto took = host_counts(edu_name) - before;
    const unsigned long long left = must(trigger.try_read()).value_or(0);  // what KVM did not consume

    EXAMPLE_SAY(ex6_table, windows, static_cast<unsigned>(window.count()));
    EXAMPLE_SAY(ex6_header);  // "guest saw", on the host's rows: interrupts of any INTID but edu's
    EXAMPLE_SAY(ex6_row_timer, "arch_timer", took.timer, saw.other);
    EXAMPLE_SAY(ex6_row_uart, "uart-pl011", took.uart, saw.other);
    EXAMPLE_SAY(ex6_row_nvme, "nvme0q*", took.nvme, saw.other);
    EXAMPLE_SAY(ex6_row_edu, edu_name.c_str(), took.edu, saw.edu);
    EXAMPLE_SAY(ex6_measured);
    EXAMPLE_SAY(ex6_consumed, took.edu, left, saw.edu, (unsigned long long)edu_intid);
    EXAMPLE_CHECK(took.timer > 0 && took.nvme > 0 && reader.reads() > 0);  // the host was busy with its own
    EXAMPLE_CHECK(saw.other == 0);                                          // none of it reached the guest
    EXAMPLE_CHECK(took.edu == windows && saw.edu == windows && left == 0);  // edu's did, each one, through KVM

    // 2. Unsubscribed: KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN. edu, the host and
    // vfio-pci carry on as before; only KVM has stopped listening.
    must(vm.remove_irqfd(trigger, arm64::spi_gsi(spi)));
    EXAMPLE_SAY(ex6_deassigned, trigger.event_fd());
    GuestSaw after;
    unsigned long long read_by_us = 0;
    const auto before2 = host_counts(edu_name);
    for (unsigned i = 1; i <= more; ++i) {
        reg(0x60) = i;
        run_guest(cpu, window, edu_intid, after);  // the guest waits in WFI: nothing comes
        if (!must(trigger.wait_for(1s))) return EXAMPLE_SAY(ex6_lost, i), 1;
        const unsigned long long count = must(trigger.try_read()).value_or(0);  // it waited for us
        read_by_us += count;
        reg(0x64) = reg(0x24);      // we acknowledge edu, as the guest did
        must(unmask.signal());      // and unmask INTx, as KVM's resample did
        EXAMPLE_SAY(ex6_unsubscribed, i, count);
    }
    const auto took2 = host_counts(edu_name) - before2;
    EXAMPLE_SAY(ex6_after, more, took2.edu, read_by_us, after.edu + after.other);
    EXAMPLE_CHECK(took2.edu == more && read_by_us == more && after.edu + after.other == 0);
    EXAMPLE_SAY(ex6_done);
    return 0;
}
