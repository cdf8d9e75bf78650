// guest_checks — runs inside the kvmxx-vmm guest (static arm64 binary in its
// initramfs) and checks what the passed-through devices do, from the guest's
// side, with the guest kernel's own drivers. One line per check:
//     e2e: PASS name — what was seen        e2e: FAIL name — what went wrong
// tests/e2e/run counts them; a check that never prints counts as failed.
//
//   find-devices  edu (1234:11e8) and the NVMe controller (1b36:0010) on the bus
//   edu-id        edu's identification register through BAR0 (a memory slot)
//   edu-factorial edu computes 10! through its BAR
//   edu-intx      100 edu interrupts through uio_pci_generic: raise, wait,
//                 status matches, ack, re-enable INTx (INTx status bit seen live)
//   nvme-read     the disk's first sector holds the known text (nvme driver:
//                 MSI-X + DMA into guest RAM through the host IOMMU)
//   nvme-msix     the nvme driver's interrupts are MSI-X, and they fired
//   cpu1-online   the second vCPU, offline at boot (maxcpus=1), comes online (PSCI CPU_ON)
//
//   sve / no-sve  with kvmxx_sve=BITS on the kernel command line: the guest has SVE
//                 (/proc/cpuinfo), and its longest vector is BITS (prctl PR_SVE_SET_VL,
//                 then RDVL); with kvmxx_sve=0 it has no SVE at all
//   ptrauth / no-ptrauth  with kvmxx_ptrauth=1 (or 0): paca and pacg in /proc/cpuinfo (or not)
//
// `guest_checks --empty-bus` (a VMM started with no --device) instead checks:
//   empty-pci-bus the PCI host bridge was probed (bus 0000:00 exists) and holds no device
// (and the SVE and ptrauth checks above).
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;

namespace {

int failures = 0;

void result(bool ok, const char* name, const std::string& detail) {
    std::printf("e2e: %s %s — %s\n", ok ? "PASS" : "FAIL", name, detail.c_str());
    std::fflush(stdout);
    if (!ok) ++failures;
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    std::string v = s.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
}

bool put(const fs::path& p, const std::string& v) {
    std::ofstream f(p);
    f << v;
    f.flush();
    return static_cast<bool>(f);
}

/// The PCI address of the first device with this vendor:device, or "".
std::string find_pci(const char* vendor, const char* device) {
    std::error_code ec;
    for (const auto& d : fs::directory_iterator("/sys/bus/pci/devices", ec))
        if (slurp(d.path() / "vendor") == vendor && slurp(d.path() / "device") == device) return d.path().filename();
    return "";
}

struct Bar {
    volatile std::uint32_t* regs = nullptr;
    std::uint32_t read(unsigned off) const { return regs[off / 4]; }
    void write(unsigned off, std::uint32_t v) const { regs[off / 4] = v; }
};

/// BAR0 of `bdf` mapped through sysfs, after turning on the device's memory
/// decoding (no guest driver has enabled it; a BAR that does not decode reads all ones).
Bar map_bar0(const std::string& bdf) {
    put("/sys/bus/pci/devices/" + bdf + "/enable", "1");
    const auto path = "/sys/bus/pci/devices/" + bdf + "/resource0";
    const int fd = ::open(path.c_str(), O_RDWR | O_SYNC);
    if (fd < 0) return {};
    void* p = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    return p == MAP_FAILED ? Bar{} : Bar{static_cast<volatile std::uint32_t*>(p)};
}

// edu's registers (QEMU docs/specs/edu.rst)
constexpr unsigned edu_id = 0x00, edu_fact = 0x08, edu_status = 0x20, edu_irq_status = 0x24, edu_irq_raise = 0x60,
                   edu_irq_ack = 0x64;

void check_edu(const Bar& bar) {
    const auto id = bar.read(edu_id);
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", id);
    result((id & 0xffff) == 0xed, "edu-id", std::string("ID register 0x") + hex + " (expect 0x..0000ed)");

    bar.write(edu_fact, 10);
    for (int i = 0; i < 100000 && (bar.read(edu_status) & 1); ++i) std::this_thread::yield();
    const auto f = bar.read(edu_fact);
    result(f == 3628800, "edu-factorial", "10! = " + std::to_string(f));
}

/// Binds uio_pci_generic to edu and runs `rounds` interrupts; false + why on failure.
struct IntxRun {
    int got = 0, status_seen = 0;
    double seconds = 0;
    std::string why;
};

IntxRun run_edu_intx(const std::string& bdf, const Bar& bar, int rounds) {
    const fs::path dev = "/sys/bus/pci/devices/" + bdf;
    put(dev / "driver_override", "uio_pci_generic");
    put("/sys/bus/pci/drivers_probe", bdf);
    std::string uio;
    std::error_code ec;
    for (const auto& u : fs::directory_iterator(dev / "uio", ec)) uio = u.path().filename();
    IntxRun out;
    if (uio.empty()) {
        out.why = "uio_pci_generic did not take " + bdf + " (driver: " + fs::read_symlink(dev / "driver", ec).filename().string() + ")";
        return out;
    }
    const int ufd = ::open(("/dev/" + uio).c_str(), O_RDONLY);
    const int cfg = ::open((dev / "config").c_str(), O_RDWR);
    if (ufd < 0 || cfg < 0) {
        out.why = "cannot open /dev/" + uio + " or config";
        return out;
    }
    int& got = out.got;
    int& status_seen = out.status_seen;
    std::string& why = out.why;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= rounds; ++i) {
        const std::uint32_t value = 0x100u + static_cast<std::uint32_t>(i);
        bar.write(edu_irq_raise, value);
        pollfd p{ufd, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) { why = "round " + std::to_string(i) + ": no interrupt in 5 s"; break; }
        std::uint32_t count;
        if (::read(ufd, &count, 4) != 4) { why = "read /dev/" + uio + " failed"; break; }
        std::uint16_t status = 0;
        (void)::pread(cfg, &status, 2, 6);
        if (status & (1 << 3)) ++status_seen;  // the line is still asserted: edu not acked yet
        const auto irq_status = bar.read(edu_irq_status);
        if (irq_status != value) { why = "round " + std::to_string(i) + ": interrupt status " + std::to_string(irq_status) + ", expected " + std::to_string(value); break; }
        bar.write(edu_irq_ack, value);
        std::uint16_t command = 0;  // uio_pci_generic masked INTx in the handler; unmask it
        (void)::pread(cfg, &command, 2, 4);
        command = static_cast<std::uint16_t>(command & ~(1u << 10));
        (void)::pwrite(cfg, &command, 2, 4);
        ++got;
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::close(ufd);
    ::close(cfg);
    return out;
}

void check_edu_intx(const std::string& bdf, const Bar& bar) {
    constexpr int rounds = 100;
    const auto r = run_edu_intx(bdf, bar, rounds);
    result(r.got == rounds && r.status_seen == rounds, "edu-intx",
           std::to_string(r.got) + "/" + std::to_string(rounds) + " interrupts with the right status, INTx status bit seen in " +
               std::to_string(r.status_seen) + (r.why.empty() ? "" : "; " + r.why));
}

void check_nvme() {
    std::string text;
    for (int i = 0; i < 100 && text.empty(); ++i) {
        std::ifstream disk("/dev/nvme0n1", std::ios::binary);
        if (disk) {
            char sector[512] = {};
            disk.read(sector, sizeof sector);
            text.assign(sector, strnlen(sector, sizeof sector));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    result(text == "kvmxx: the first sector of the NVMe disk", "nvme-read", "first sector of /dev/nvme0n1: \"" + text + "\"");

    // Which vectors are MSI-X comes from sysfs (msi_irqs/N holds "msix" or "msi"):
    // /proc/interrupts says "ITS-MSI" for both.
    const fs::path msi_irqs = "/sys/bus/pci/devices/" + find_pci("0x1b36", "0x0010") + "/msi_irqs";
    std::ifstream irqs("/proc/interrupts");
    std::string line, seen;
    long total = 0;
    int queues = 0, msix_queues = 0;
    while (std::getline(irqs, line)) {
        if (line.find("nvme0q") == std::string::npos) continue;
        const auto irq = line.substr(line.find_first_not_of(' '), line.find(':') - line.find_first_not_of(' '));
        ++queues;
        msix_queues += slurp(msi_irqs / irq) == "msix";
        std::istringstream in(line.substr(line.find(':') + 1));
        long n;
        while (in >> n) total += n;
        if (seen.empty()) seen = line.substr(line.find_first_not_of(' '));
    }
    result(queues > 0 && msix_queues == queues && total > 0, "nvme-msix",
           std::to_string(total) + " nvme interrupts, " + std::to_string(msix_queues) + " of " + std::to_string(queues) +
               " queue vectors MSI-X (" + msi_irqs.string() + "); " + (seen.empty() ? "no nvme0q line in /proc/interrupts" : seen));
}

void check_cpu1() {
    const fs::path online = "/sys/devices/system/cpu/cpu1/online";
    const auto before = slurp(online);
    put(online, "1");
    const auto after = slurp(online);
    int processors = 0;
    std::ifstream info("/proc/cpuinfo");
    for (std::string l; std::getline(info, l);) processors += l.rfind("processor", 0) == 0;
    result(before == "0" && after == "1" && processors == 2, "cpu1-online",
           "cpu1 online " + before + " → " + after + ", " + std::to_string(processors) + " processors");
}

}  // namespace

/// `guest_checks --intx-rate N` (benchmarks/run): N edu interrupts, then one line
/// "bench edu_intx_rate value=R interrupts/s" as benchmarks/run prints it.
int intx_rate(int rounds) {
    const auto edu = find_pci("0x1234", "0x11e8");
    const Bar bar = edu.empty() ? Bar{} : map_bar0(edu);
    if (!bar.regs) return std::puts("bench-guest: no edu"), 1;
    const auto r = run_edu_intx(edu, bar, rounds);
    if (r.got != rounds) return std::printf("bench-guest: edu interrupts failed: %s\n", r.why.c_str()), 1;
    std::printf("bench edu_intx_rate value=%.0f interrupts/s\n", rounds / r.seconds);
    return 0;
}

/// The Features line of /proc/cpuinfo, with a space at each end.
std::string cpu_features() {
    std::ifstream info("/proc/cpuinfo");
    for (std::string l; std::getline(info, l);)
        if (l.rfind("Features", 0) == 0) return " " + l.substr(l.find(':') + 1) + " ";
    return "";
}

/// kvmxx_sve=BITS (the longest vector length the VMM allowed) or 0 (SVE refused):
/// what the guest's kernel tells its programs, and what the CPU does.
void check_sve(const char* expected) {
    const unsigned want = static_cast<unsigned>(std::atoi(expected));
    const bool listed = cpu_features().find(" sve ") != std::string::npos;
    if (want == 0) {
        const int vl = prctl(PR_SVE_GET_VL);
        result(!listed && vl < 0, "no-sve", std::string(listed ? "sve listed" : "no sve in /proc/cpuinfo") +
               ", PR_SVE_GET_VL " + (vl < 0 ? std::string("refused: ") + std::strerror(errno) : std::to_string(vl)));
        return;
    }
    // Ask for the architecture's longest (2048 bits): the kernel gives the longest the CPU has.
    const int set = prctl(PR_SVE_SET_VL, 256);
    std::uint64_t rdvl = 0;
    if (set > 0) asm volatile(".arch_extension sve\n\trdvl %0, #1" : "=r"(rdvl));
    const unsigned bytes = set > 0 ? static_cast<unsigned>(set & PR_SVE_VL_LEN_MASK) : 0;
    result(listed && bytes * 8 == want && rdvl == bytes, "sve",
           std::string(listed ? "sve" : "no sve") + " in /proc/cpuinfo, longest vector " + std::to_string(bytes * 8) +
               " bits (want " + std::to_string(want) + "), RDVL " + std::to_string(rdvl) + " bytes");
}

/// kvmxx_ptrauth=1 or 0: address and generic authentication listed, or neither.
void check_ptrauth(const char* expected) {
    const bool want = std::strcmp(expected, "1") == 0;
    const auto f = cpu_features();
    const bool paca = f.find(" paca ") != std::string::npos, pacg = f.find(" pacg ") != std::string::npos;
    result(want ? paca && pacg : !paca && !pacg, want ? "ptrauth" : "no-ptrauth",
           std::string("paca ") + (paca ? "listed" : "absent") + ", pacg " + (pacg ? "listed" : "absent"));
}

/// The checks any boot can ask for on the kernel command line.
void check_cpu_features() {
    if (const char* sve = std::getenv("kvmxx_sve")) check_sve(sve);
    if (const char* ptrauth = std::getenv("kvmxx_ptrauth")) check_ptrauth(ptrauth);
}

/// With no --device, the guest still finds a host bridge, and nothing on its bus.
void check_empty_bus() {
    std::error_code ec;
    const bool bus = fs::exists("/sys/class/pci_bus/0000:00", ec);
    int devices = 0;
    std::string seen;
    for (const auto& d : fs::directory_iterator("/sys/bus/pci/devices", ec)) ++devices, seen += " " + d.path().filename().string();
    result(bus && devices == 0, "empty-pci-bus",
           std::string(bus ? "host bridge probed (pci_bus 0000:00)" : "no pci_bus 0000:00: no host bridge was probed") +
               ", " + std::to_string(devices) + " device(s)" + seen);
}

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--intx-rate") == 0) return intx_rate(std::atoi(argv[2]));
    if (argc == 2 && std::strcmp(argv[1], "--empty-bus") == 0) {
        check_empty_bus();
        check_cpu_features();
        std::printf("e2e: guest checks done, %d failed\n", failures);
        return failures == 0 ? 0 : 1;
    }
    const auto edu = find_pci("0x1234", "0x11e8"), nvme = find_pci("0x1b36", "0x0010");
    result(!edu.empty() && !nvme.empty(), "find-devices", "edu at " + (edu.empty() ? "?" : edu) + ", NVMe at " + (nvme.empty() ? "?" : nvme));
    if (!edu.empty()) {
        const Bar bar = map_bar0(edu);
        if (!bar.regs) {
            result(false, "edu-id", "cannot mmap " + edu + "/resource0");
        } else {
            check_edu(bar);
            check_edu_intx(edu, bar);
        }
    }
    if (!nvme.empty()) check_nvme();
    check_cpu1();
    check_cpu_features();
    std::printf("e2e: guest checks done, %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
