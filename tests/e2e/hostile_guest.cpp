// hostile_guest — a guest program that plays a malicious guest against kvmxx-vmm
// (tests/e2e/hostile.sh), and, in the emulated host, the canary it aims at.
//
// In the guest (/init runs it when the kernel command line has kvmxx_hostile=SECONDS):
//   1. notes where the passed-through functions' BARs are, their MSI / MSI-X
//      capabilities, and takes them away from the guest's kernel (sysfs remove),
//   2. for SECONDS (two threads, each its own xorshift stream from the printed seed)
//      reads and writes random values at random widths (1, 2, 4, 8 bytes, naturally
//      aligned: an unaligned access to device memory is the guest's own alignment
//      fault) through /dev/mem to
//        - the ECAM: both functions' config space (BARs moved over RAM, the GIC, the
//          UART, the boot timer, the ECAM, each other and outside the windows; the
//          command register; MSI and MSI-X enables, masks, addresses and data), and
//          the rest of the bus,
//        - both functions' BARs, NVMe's MSI-X table and PBA among them (never NVMe's
//          CC.EN, so the controller never fetches commands from guest RAM; never edu's
//          DMA registers, which step 3 programs itself),
//        - the PL011 (its setup restored at the end), the boot timer, unmapped MMIO,
//   3. meanwhile programs edu's DMA (QEMU docs/specs/edu.rst) to IOVAs outside guest
//      RAM in both directions, kvmxx_canary=PA (a page of the emulated host) among them,
//   4. restores both functions' config space, rescans the bus (the kernel sizes and
//      places the BARs again, nvme probes) and checks that the NVMe disk's first
//      sector reads right and edu computes 10!.
// It prints one line, "hostile-guest: ok ..." or "hostile-guest: FAIL ...".
// /dev/mem needs iomem=relaxed on the command line: Debian's kernel has
// CONFIG_IO_STRICT_DEVMEM, which refuses the ECAM and the PL011 (busy resources).
//
// In the emulated host: `hostile_guest --canary` fills a locked page with a pattern,
// prints "canary pa=0x..." (its physical address, from /proc/self/pagemap; a page
// above guest RAM's IOVAs, so that a DMA there can only be the SMMU's to stop),
// waits for its stdin to close, then prints "canary: intact ..." or "canary: CHANGED ...".
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

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

std::string hex(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

// ---- the canary, in the emulated host --------------------------------------

std::uint64_t physical(const void* p) {
    const int fd = ::open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) return 0;
    std::uint64_t entry = 0;
    const auto page = reinterpret_cast<std::uintptr_t>(p) / 4096;
    const bool ok = ::pread(fd, &entry, 8, static_cast<off_t>(page * 8)) == 8;
    ::close(fd);
    if (!ok || !(entry >> 63)) return 0;                        // not present
    return (entry & ((std::uint64_t{1} << 55) - 1)) * 4096;     // PFN 0 without CAP_SYS_ADMIN
}

std::uint8_t pattern(std::size_t i) { return static_cast<std::uint8_t>(0xa5 ^ (i * 7)); }

int canary(std::uint64_t avoid_from, std::uint64_t avoid_to) {
    // 16 MiB at a time, locked, until a page lies outside [avoid_from, avoid_to).
    constexpr std::size_t chunk = 16 << 20;
    std::uint8_t* page = nullptr;
    std::uint64_t pa = 0, first = 0;
    for (int n = 0; n < 32 && !page; ++n) {
        auto* mem = static_cast<std::uint8_t*>(::mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (mem == MAP_FAILED || ::mlock(mem, chunk) != 0) return std::puts("canary: FAIL cannot map and lock 16 MiB"), 1;
        for (std::size_t i = 0; i < chunk; ++i) mem[i] = pattern(i % 4096);
        for (std::size_t i = 0; i < chunk / 4096 && !page; ++i) {
            pa = physical(mem + i * 4096);
            if (!first) first = pa;
            if (pa != 0 && (pa + 4096 <= avoid_from || pa >= avoid_to)) page = mem + i * 4096;
        }
    }
    if (!page)
        return std::printf("canary: FAIL no page outside %s-%s in 512 MiB (first PA %s; 0: no PFNs, not root?)\n",
                           hex(avoid_from).c_str(), hex(avoid_to).c_str(), hex(first).c_str()), 1;
    std::printf("canary pa=%s\n", hex(pa).c_str());
    std::fflush(stdout);
    char buf[64];
    while (::read(0, buf, sizeof buf) > 0) {}
    std::size_t changed = 0;
    for (std::size_t i = 0; i < 4096; ++i) changed += page[i] != pattern(i);
    const auto pa_after = physical(page);
    if (changed == 0 && pa_after == pa)
        std::printf("canary: intact — 4096 bytes at PA %s as written, the page never moved\n", hex(pa).c_str());
    else
        std::printf("canary: CHANGED — %zu of 4096 bytes differ at PA %s (PA now %s)\n", changed, hex(pa).c_str(), hex(pa_after).c_str());
    return changed == 0 && pa_after == pa ? 0 : 1;
}

// ---- the hostile guest -----------------------------------------------------

// The board (examples/vmm/board.hpp): where a BAR must never land, and what to poke.
constexpr std::uint64_t gic_dist = 0x0800'0000, gic_its = 0x0808'0000, gic_redist = 0x080a'0000, uart = 0x0900'0000,
                        boot_timer = 0x0901'0000, ecam = 0x3000'0000, ecam_size = 0x10'0000, mmio32 = 0x1000'0000,
                        mmio32_end = 0x3000'0000, mmio64 = 0x80'0000'0000;
// Pages no device claims: below the GIC, between the boot timer and the PCI window,
// just past the ECAM, below RAM.
constexpr std::uint64_t unmapped[] = {0x0, 0x0400'0000, 0x0a00'0000, 0x0901'1000, 0x3010'0000, 0x3fff'f000};

struct Rng {  // xorshift64*
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
    unsigned width() { return 1u << below(4); }  // 1, 2, 4, 8 bytes
};

// Plain single loads and stores (no pair, no writeback: KVM can decode them, as
// it must, to hand them to the VMM; a compiler's choice might not be).
void store(volatile void* a, unsigned w, std::uint64_t v) {
    switch (w) {
        case 1: asm volatile("strb %w0, [%1]" ::"r"(static_cast<std::uint32_t>(v)), "r"(a) : "memory"); break;
        case 2: asm volatile("strh %w0, [%1]" ::"r"(static_cast<std::uint32_t>(v)), "r"(a) : "memory"); break;
        case 4: asm volatile("str %w0, [%1]" ::"r"(static_cast<std::uint32_t>(v)), "r"(a) : "memory"); break;
        default: asm volatile("str %x0, [%1]" ::"r"(v), "r"(a) : "memory"); break;
    }
}
std::uint64_t load(volatile void* a, unsigned w) {
    std::uint64_t v = 0;
    switch (w) {
        case 1: asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
        case 2: asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
        case 4: asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
        default: asm volatile("ldr %x0, [%1]" : "=r"(v) : "r"(a) : "memory"); break;
    }
    return v;
}

int devmem = -1;
std::string map_error;

volatile std::uint8_t* map(std::uint64_t pa, std::uint64_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, devmem, static_cast<off_t>(pa));
    if (p == MAP_FAILED) {
        if (map_error.empty()) map_error = "mmap /dev/mem at " + hex(pa) + ": " + std::strerror(errno);
        return nullptr;
    }
    return static_cast<volatile std::uint8_t*>(p);
}

struct Bar {
    std::uint64_t base = 0, size = 0;
    volatile std::uint8_t* at = nullptr;
};

struct Function {
    std::string bdf;
    unsigned devfn = 0;
    volatile std::uint8_t* cfg = nullptr;  // its 4 KiB of ECAM
    std::uint32_t header[16] = {};         // the first 64 bytes as the guest's kernel left them
    Bar bars[6];
    unsigned msi = 0, msix = 0;            // capability offsets, 0 = none
    std::uint32_t cfg32(unsigned off) const { return static_cast<std::uint32_t>(load(cfg + off, 4)); }
};

bool find_function(const char* vendor, const char* device, Function& f) {
    std::error_code ec;
    for (const auto& d : fs::directory_iterator("/sys/bus/pci/devices", ec)) {
        if (slurp(d.path() / "vendor") != vendor || slurp(d.path() / "device") != device) continue;
        f.bdf = d.path().filename();
        unsigned dom, bus, dev, fn;
        if (std::sscanf(f.bdf.c_str(), "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 || bus != 0) return false;
        f.devfn = dev << 3 | fn;
        std::ifstream res(d.path() / "resource");
        for (auto& b : f.bars) {
            std::uint64_t start = 0, end = 0, flags = 0;
            res >> std::hex >> start >> end >> flags;
            if (end > start) b.base = start, b.size = end - start + 1;
        }
        return true;
    }
    return false;
}

struct Counts {
    std::atomic<std::uint64_t> config{0}, bar_moves{0}, bars{0}, msix{0}, uart{0}, timer{0}, unmapped{0}, faults{0};
    std::atomic<std::uint64_t> dma_started{0}, canary_dmas{0};
} counts;

std::vector<Function> functions;
volatile std::uint8_t *ecam_map = nullptr, *uart_map = nullptr, *timer_map = nullptr;
std::vector<volatile std::uint8_t*> unmapped_maps;
std::uint64_t ram_base = 0, ram_end = 0;

thread_local sigjmp_buf* fault_jump = nullptr;
void on_fault(int) {
    if (fault_jump) siglongjmp(*fault_jump, 1);
    std::_Exit(99);
}

/// A value to move a BAR to: somewhere it must never decode, or anywhere.
std::uint64_t bar_target(Rng& r) {
    std::uint64_t other = 0;
    const auto& f = functions[r.below(functions.size())];
    for (const auto& b : f.bars) if (b.size) { other = b.base; break; }
    const std::uint64_t targets[] = {ram_base, ram_base + 0x10'0000, ram_end - 0x1000, gic_dist, gic_its, gic_redist, uart,
                                     boot_timer, ecam, other, 0, mmio32 - 0x1000, mmio32_end - 0x1000, mmio32_end,
                                     mmio64 - 0x1000, 0xffff'ffff'ffff'f000ull, r.next()};
    return targets[r.below(std::size(targets))];
}

/// One access somewhere in a function's config space (or the rest of the bus).
void hit_config(Rng& r) {
    const std::uint64_t kind = r.below(16);
    if (kind == 0) {  // the rest of the bus: functions that are not there
        const unsigned w = r.width();
        auto* a = ecam_map + (r.below(ecam_size) & ~std::uint64_t{w - 1});
        if (r.below(2)) store(a, w, r.next()); else (void)load(a, w);
        ++counts.config;
        return;
    }
    const auto& f = functions[r.below(functions.size())];
    unsigned off;
    unsigned w = r.width();
    std::uint64_t v = r.next();
    if (kind <= 4) {  // a BAR (or the ROM BAR) moved somewhere it must not go
        const unsigned bar_regs[] = {0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30};
        off = bar_regs[r.below(std::size(bar_regs))];
        const std::uint64_t t = bar_target(r);
        w = r.below(3) ? 4 : 8;
        if (w == 8 && (off & 7)) w = 4;
        v = r.below(8) ? t : (r.below(2) ? ~std::uint64_t{0} : 0);  // now and then sizing, or nothing
        ++counts.bar_moves;
    } else if (kind <= 6) {  // the command register: memory, bus master, INTx disable toggled
        off = 4;
        w = r.below(2) ? 2 : 4;
    } else if (kind <= 9 && f.msi) {  // MSI: enable, address, data, mask
        off = f.msi + static_cast<unsigned>(r.below(24));
    } else if (kind <= 12 && f.msix) {  // MSI-X: enable, function mask
        off = f.msix + static_cast<unsigned>(r.below(12));
        if (r.below(2)) off = f.msix + 2, w = 2, v = r.next() & 0xc000;
    } else {
        off = static_cast<unsigned>(r.below(4096));
    }
    off &= ~(w - 1);
    if (r.below(4)) store(f.cfg + off, w, v); else (void)load(f.cfg + off, w);
    ++counts.config;
}

/// Whether a write at this page offset could reach edu's DMA registers (0x80-0x9f)
/// if the hammering moved edu's BAR (1 MiB aligned) under it: QEMU's edu treats a
/// DMA outside its buffer as a hardware error and stops the whole emulated machine,
/// which no real device does; only dma_loop programs them, always in range.
bool edu_dma_offset(std::uint64_t off, unsigned w) {
    const std::uint64_t in_page = off & 0xfff;
    return in_page + w > 0x80 && in_page < 0xa0;
}

/// One access to a function's BARs, where the guest's kernel had placed them.
void hit_bar(Rng& r) {
    const auto& f = functions[r.below(functions.size())];
    const bool nvme = f.msix != 0;
    std::vector<const Bar*> mapped;
    for (const auto& b : f.bars) if (b.at) mapped.push_back(&b);
    if (mapped.empty()) return;
    const Bar& b = *mapped[r.below(mapped.size())];
    const unsigned w = r.width();
    std::uint64_t off = r.below(b.size);
    if (nvme && r.below(3) == 0) {  // the MSI-X table or PBA, often
        const std::uint32_t table = f.cfg32(f.msix + 4), pba = f.cfg32(f.msix + 8);
        const std::uint32_t pick = r.below(2) ? table : pba;
        if (&b == &f.bars[pick & 7]) off = (pick & ~7u) + r.below(r.below(2) ? 0x200 : 0x10), ++counts.msix;
        if (off >= b.size) off = r.below(b.size);
    } else if (nvme && r.below(2)) {
        off = r.below(0x1100);  // the registers and the first doorbells
    }
    off &= ~std::uint64_t{w - 1};
    std::uint64_t v = r.next();
    if (nvme && off <= 0x14 && off + w > 0x14) v &= ~(std::uint64_t{1} << (8 * (0x14 - off)));  // CC.EN stays 0
    if (r.below(4) && !edu_dma_offset(off, w)) store(b.at + off, w, v); else (void)load(b.at + off, w);
    ++counts.bars;
}

void hit_other(Rng& r) {
    const unsigned w = r.width();
    const std::uint64_t kind = r.below(3);
    volatile std::uint8_t* base = kind == 0 ? uart_map : kind == 1 ? timer_map : unmapped_maps[r.below(unmapped_maps.size())];
    const std::uint64_t off = r.below(4096) & ~std::uint64_t{w - 1};
    if (r.below(2) && !edu_dma_offset(off, w)) store(base + off, w, r.next()); else (void)load(base + off, w);
    ++(kind == 0 ? counts.uart : kind == 1 ? counts.timer : counts.unmapped);
}

/// A function's BARs back where the guest's kernel had them, decoding (or, with
/// `command` 0, quiet).
void restore(const Function& f, std::uint16_t command) {
    store(f.cfg + 4, 2, 0);
    for (unsigned i = 4; i <= 9; ++i) store(f.cfg + i * 4, 4, f.header[i]);
    store(f.cfg + 0x30, 4, f.header[12]);
    store(f.cfg + 4, 2, command);
}

void hammer(std::uint64_t seed, std::chrono::steady_clock::time_point until, bool restorer) {
    Rng r{seed | 1};
    sigjmp_buf jump;
    fault_jump = &jump;
    while (std::chrono::steady_clock::now() < until) {
        if (sigsetjmp(jump, 1)) ++counts.faults;  // an access the guest's own CPU faulted: counted, go on
        // Each round starts with the BARs back in place, so that most BAR accesses reach them.
        if (restorer) for (const auto& f : functions) restore(f, 0x6);
        for (int i = 0; i < 64; ++i) {
            const auto k = r.below(8);
            if (k < 4) hit_config(r);
            else if (k < 6) hit_bar(r);
            else hit_other(r);
        }
    }
    fault_jump = nullptr;
}

// edu's DMA (docs/specs/edu.rst): source 0x80, destination 0x88, count 0x90,
// command 0x98 (bit 0 start, bit 1 edu → RAM, bit 2 raise an interrupt); its buffer at
// 0x40000. 2 KiB at a time: this QEMU's edu takes a transfer reaching the buffer's
// last byte for out of range (a hardware error that stops the emulated machine).
void dma_loop(const Function& edu, std::uint64_t canary, std::uint64_t seed, std::chrono::steady_clock::time_point until) {
    Rng r{seed ^ 0x9e3779b97f4a7c15ull};
    volatile std::uint8_t* regs = edu.bars[0].at;
    sigjmp_buf jump;
    fault_jump = &jump;
    while (std::chrono::steady_clock::now() < until) {
        if (sigsetjmp(jump, 1)) { ++counts.faults; std::this_thread::sleep_for(std::chrono::milliseconds(20)); continue; }
        if ((load(regs, 4) & 0xffff) != 0xed) restore(edu, 0x6);  // not there: back in place, decoding, bus master
        if (load(regs + 0x98, 4) & 1) {  // busy
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        // Outside guest RAM: the canary, just past RAM, just below it, the PCI windows, anywhere high.
        const std::uint64_t iovas[] = {canary + 0x400, canary + 0x400, ram_end, ram_base - 0x1000, mmio32, mmio64, 0x1000,
                                       (r.next() | (std::uint64_t{1} << 40)) & ~std::uint64_t{0xfff}};
        std::uint64_t iova = iovas[r.below(std::size(iovas))];
        if (iova == 0) iova = ram_end;
        const bool to_ram = iova == canary + 0x400 || r.below(2);
        store(regs + 0x88 * to_ram + 0x80 * !to_ram, 8, iova);  // the IOVA: destination or source
        store(regs + 0x80 * to_ram + 0x88 * !to_ram, 8, 0x40000);
        store(regs + 0x90, 8, 0x800);
        store(regs + 0x98, 4, to_ram ? 3 : 1);
        if (!(load(regs + 0x98, 4) & 1)) continue;  // it did not reach edu (the hammering moved the BAR meanwhile)
        ++counts.dma_started;
        counts.canary_dmas += iova == canary + 0x400 && to_ram;
    }
    fault_jump = nullptr;
    for (int i = 0; i < 100 && (load(regs + 0x98, 4) & 1); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

unsigned find_cap(const Function& f, unsigned id) {
    if (!(f.header[1] >> 16 & 0x10)) return 0;  // no capability list
    unsigned at = f.header[13] & 0xfc;
    for (int n = 0; at && n < 48; ++n) {
        const auto h = f.cfg32(at);
        if ((h & 0xff) == id) return at;
        at = h >> 8 & 0xfc;
    }
    return 0;
}

int fail(const std::string& why) {
    std::printf("hostile-guest: FAIL %s\n", why.c_str());
    return 1;
}

std::string read_nvme_sector() {
    for (int i = 0; i < 200; ++i) {
        std::ifstream disk("/dev/nvme0n1", std::ios::binary);
        if (disk) {
            char sector[512] = {};
            disk.read(sector, sizeof sector);
            std::string text(sector, strnlen(sector, sizeof sector));
            while (!text.empty() && text.back() == '\n') text.pop_back();
            return text;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "(no /dev/nvme0n1 after 20 s)";
}

int hostile(double seconds, std::uint64_t seed, std::uint64_t canary_pa) {
    std::printf("hostile-guest: seed %" PRIu64 ", %.0f s, canary IOVA %s\n", seed, seconds, hex(canary_pa).c_str());
    std::fflush(stdout);
    // Guest RAM, from the kernel's view of it.
    std::ifstream iomem("/proc/iomem");
    for (std::string l; std::getline(iomem, l);) {
        if (l.find("System RAM") == std::string::npos || l[0] == ' ') continue;
        std::uint64_t s = 0, e = 0;
        if (std::sscanf(l.c_str(), "%" SCNx64 "-%" SCNx64, &s, &e) != 2) continue;
        if (!ram_base || s < ram_base) ram_base = s;
        if (e + 1 > ram_end) ram_end = e + 1;
    }
    if (!ram_base) return fail("no System RAM in /proc/iomem");
    if (canary_pa >= ram_base && canary_pa < ram_end) return fail("the canary's PA " + hex(canary_pa) + " is inside guest RAM's IOVAs");

    devmem = ::open("/dev/mem", O_RDWR | O_SYNC);
    if (devmem < 0) return fail(std::string("open /dev/mem: ") + std::strerror(errno));
    ecam_map = map(ecam, ecam_size);
    uart_map = map(uart, 4096);
    timer_map = map(boot_timer, 4096);
    for (auto pa : unmapped) if (auto* p = map(pa, 4096)) unmapped_maps.push_back(p);
    if (!ecam_map || !uart_map || !timer_map || unmapped_maps.size() != std::size(unmapped))
        return fail(map_error + " (the guest needs iomem=relaxed: CONFIG_IO_STRICT_DEVMEM)");

    Function edu, nvme;
    if (!find_function("0x1234", "0x11e8", edu) || !find_function("0x1b36", "0x0010", nvme))
        return fail("edu or the NVMe controller is not on bus 0");
    functions = {edu, nvme};
    for (auto& f : functions) {
        f.cfg = ecam_map + (std::uint64_t{f.devfn} << 12);
        for (unsigned i = 0; i < 16; ++i) f.header[i] = f.cfg32(i * 4);
        f.msi = find_cap(f, 0x05);
        f.msix = find_cap(f, 0x11);
        for (auto& b : f.bars) if (b.size) b.at = map(b.base, b.size);
    }
    if (!functions[0].bars[0].at || !functions[1].bars[0].at) return fail(map_error);
    if (!functions[1].msix) return fail("no MSI-X capability on the NVMe controller");

    // The guest's kernel lets go of both (nvme shuts its controller down); memory
    // decoding and bus mastering on, NVMe's controller disabled for good measure.
    for (const auto& f : functions) put("/sys/bus/pci/devices/" + f.bdf + "/remove", "1");
    for (const auto& f : functions) store(f.cfg + 4, 2, 0x6);
    store(functions[1].bars[0].at + 0x14, 4, 0);

    std::uint32_t uart_saved[6];
    const unsigned uart_regs[6] = {0x24, 0x28, 0x2c, 0x30, 0x34, 0x38};  // IBRD FBRD LCR_H CR IFLS IMSC
    for (int i = 0; i < 6; ++i) uart_saved[i] = static_cast<std::uint32_t>(load(uart_map + uart_regs[i], 4));

    struct sigaction sa{};
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    ::sigaction(SIGBUS, &sa, nullptr);
    ::sigaction(SIGSEGV, &sa, nullptr);

    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    std::thread t1(hammer, seed, until, true), t2(hammer, seed * 0x100000001b3ull + 1, until, false);
    dma_loop(functions[0], canary_pa, seed, until);
    t1.join();
    t2.join();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Sane again: the PL011 as its driver set it up, both functions quiet with the
    // BARs where the kernel had them; then the kernel finds them anew.
    for (int i = 5; i >= 0; --i) store(uart_map + uart_regs[i], 4, uart_saved[i]);
    for (const auto& f : functions) {
        if (f.msi) store(f.cfg + f.msi + 2, 2, 0);
        if (f.msix) store(f.cfg + f.msix + 2, 2, 0);
        restore(f, 0);
    }
    store(functions[1].bars[0].at + 0x14, 4, 0);
    const std::uint64_t accesses = counts.config + counts.bars + counts.uart + counts.timer + counts.unmapped;
    std::printf("\nhostile-guest: done after %.1f s\n", took);
    std::fflush(stdout);
    put("/sys/bus/pci/rescan", "1");

    const std::string sector = read_nvme_sector();
    Function edu2;
    std::uint64_t fact = 0;
    if (find_function("0x1234", "0x11e8", edu2) && edu2.bars[0].size) {
        put("/sys/bus/pci/devices/" + edu2.bdf + "/enable", "1");
        if (auto* regs = map(edu2.bars[0].base, 4096)) {
            store(regs + 0x08, 4, 10);
            for (int i = 0; i < 100000 && (load(regs + 0x20, 4) & 1); ++i) std::this_thread::yield();
            fact = load(regs + 0x08, 4);
        }
    }
    char detail[768];
    std::snprintf(detail, sizeof detail,
                  "%" PRIu64 " accesses in %.0f s, seed %" PRIu64 " (config space %" PRIu64 " with %" PRIu64 " BAR moves, BARs %" PRIu64
                  " with %" PRIu64 " on the MSI-X table/PBA, PL011 %" PRIu64 ", boot timer %" PRIu64 ", unmapped MMIO %" PRIu64
                  "; %" PRIu64 " guest faults); edu DMA %" PRIu64 " times to IOVAs outside RAM, %" PRIu64
                  " of them onto the canary; after a rescan the NVMe first sector reads \"%s\", edu computes 10! = %" PRIu64,
                  accesses, took, seed, counts.config.load(), counts.bar_moves.load(), counts.bars.load(), counts.msix.load(),
                  counts.uart.load(), counts.timer.load(), counts.unmapped.load(), counts.faults.load(), counts.dma_started.load(),
                  counts.canary_dmas.load(), sector.c_str(), fact);
    const bool ok = sector == "kvmxx: the first sector of the NVMe disk" && fact == 3628800 && counts.canary_dmas > 0;
    std::printf("hostile-guest: %s %s\n", ok ? "ok" : "FAIL", detail);
    std::fflush(stdout);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "--canary") == 0)
        return canary(std::strtoull(argv[2], nullptr, 0), std::strtoull(argv[3], nullptr, 0));
    const char* secs = std::getenv("kvmxx_hostile");
    const char* seed = std::getenv("kvmxx_hostile_seed");
    const char* can = std::getenv("kvmxx_canary");
    if (!secs || !can) {
        std::puts("usage: hostile_guest --canary AVOID_FROM AVOID_TO (emulated host), or in the guest with "
                  "kvmxx_hostile=SECONDS kvmxx_canary=PA [kvmxx_hostile_seed=N] on the kernel command line");
        return 2;
    }
    const std::uint64_t s = seed && *seed ? std::strtoull(seed, nullptr, 0)
                                          : static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    return hostile(std::atof(secs), s, std::strtoull(can, nullptr, 0));
}
