// vfio_env.hpp — the devices the VFIO tests use, found by vendor:device id in
// sysfs, and a helper that opens one through container → group → device.
//
// The testbed (tests/vfio/run) gives the emulated host an NVMe disk and three edu
// devices and binds them with tests/vfio/setup.sh:
//   edu            1234:11e8 on vfio-pci, alone in its group
//   edu pair       one slot, two functions, one group: .0 on vfio-pci, .1 on uio_pci_generic
//   NVMe           1b36:0010 on vfio-pci, serial KVMXX-NVME-0001
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#define ASSERT_OK(r) ASSERT_TRUE(r) << (r).error().message()

namespace vfiotest {

inline constexpr const char* nvme_serial = "KVMXX-NVME-0001";

/// edu's registers (QEMU docs/specs/edu.rst).
namespace edu {
inline constexpr std::uint32_t id = 0x00, liveness = 0x04, factorial = 0x08, status = 0x20;
inline constexpr std::uint32_t irq_status = 0x24, irq_raise = 0x60, irq_ack = 0x64;
inline constexpr std::uint32_t dma_src = 0x80, dma_dst = 0x88, dma_count = 0x90, dma_cmd = 0x98;
inline constexpr std::uint32_t dma_buffer = 0x40000;  ///< the device's own 4 KiB buffer
inline constexpr std::uint32_t expected_id = 0x010000ed;
}  // namespace edu

inline std::string read_line(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::string s;
    std::getline(f, s);
    return s;
}

/// PCI devices with this vendor:device, sorted by address.
inline std::vector<std::string> find_pci(const char* vendor, const char* device) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/bus/pci/devices", ec))
        if (read_line(e.path() / "vendor") == vendor && read_line(e.path() / "device") == device)
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

struct Devices {
    std::string edu, pair0, pair1, nvme;
};

/// The testbed's devices, or nullopt (with the reason in `why`) elsewhere.
inline std::optional<Devices> devices(std::string& why) {
    if (::access("/dev/vfio/vfio", F_OK) != 0) {
        why = "no /dev/vfio/vfio: run this suite in the testbed (tests/vfio/run)";
        return std::nullopt;
    }
    kvmxx::vfio::Sysfs sys;
    auto edus = find_pci("0x1234", "0x11e8");
    auto nvmes = find_pci("0x1b36", "0x0010");
    Devices d;
    for (const auto& e : edus) {
        auto group = sys.group_of(e);
        if (!group) continue;
        const auto members = sys.group_devices(*group);
        if (members.size() == 1 && d.edu.empty() && sys.driver_of(e) == "vfio-pci") d.edu = e;
        if (members.size() == 2) (d.pair0.empty() ? d.pair0 : d.pair1) = e;
    }
    if (!nvmes.empty()) d.nvme = nvmes[0];
    if (d.edu.empty() || d.pair1.empty() || d.nvme.empty()) {
        why = "the testbed's devices (edu, an edu pair, NVMe bound by tests/vfio/setup.sh) are not all here";
        return std::nullopt;
    }
    return d;
}

#define REQUIRE_DEVICES(d)                            \
    std::string why_;                                 \
    auto d = vfiotest::devices(why_);                 \
    if (!d) GTEST_SKIP() << why_;

/// A device opened the way a VMM opens it: container, group (attached), device.
struct Opened {
    kvmxx::VfioContainer container;
    kvmxx::VfioGroup group;
    kvmxx::VfioDevice device;

    static void open(Opened& o, const std::string& bdf) {
        auto c = kvmxx::VfioContainer::open();
        ASSERT_OK(c);
        o.container = std::move(*c);
        auto g = kvmxx::VfioGroup::for_device(bdf);
        ASSERT_OK(g);
        o.group = std::move(*g);
        ASSERT_OK(o.group.check_viable());
        ASSERT_OK(o.container.attach(o.group));
        auto d = o.group.device(bdf);
        ASSERT_OK(d);
        o.device = std::move(*d);
        ASSERT_OK(o.device.enable_memory_and_bus_master());
    }
};

/// Polls `done` every millisecond for up to `limit`; true when it came true.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
}

/// A configuration-space register of `bdf` as the host's PCI core reads it
/// (sysfs `config`), not through VFIO: what the device itself holds.
template <class T>
std::optional<T> host_config(const std::string& bdf, std::uint16_t offset) {
    std::ifstream f("/sys/bus/pci/devices/" + bdf + "/config", std::ios::binary);
    T v{};
    if (!f.seekg(offset) || !f.read(reinterpret_cast<char*>(&v), sizeof v)) return std::nullopt;
    return v;
}

/// A 32-bit register of an mmapped BAR (volatile: each access reaches the device).
inline volatile std::uint32_t& reg32(const kvmxx::Mapping& bar, std::uint32_t offset) {
    return *reinterpret_cast<volatile std::uint32_t*>(bar.data() + offset);
}

}  // namespace vfiotest
