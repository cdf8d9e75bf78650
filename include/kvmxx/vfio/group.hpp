// kvmxx/vfio/group.hpp — `VfioGroup`, the owner of /dev/vfio/N: the IOMMU group,
// the smallest set of devices the IOMMU can isolate from each other. A group is
// usable ("viable") only when every device in it is bound to vfio-pci (or to no
// driver): one device left on a host driver could DMA into the same space.
//
// Example [vfio_group], built by tests/unit/doc_examples_test.cpp:
//
//     auto group = kvmxx::VfioGroup::for_device("0000:00:04.0");  // sysfs iommu_group → /dev/vfio/N
//     if (!group) return kvmxx::unexpected(group.error());
//
// The sysfs root is a parameter so that the path logic can be unit-tested on a
// directory tree; everything else is the kernel's answer.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../ioctl.hpp"
#include "../trace.hpp"
#include "../unique_fd.hpp"
#include "device.hpp"

#include <fcntl.h>
#include <linux/vfio.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

KVMXX_BEGIN_NAMESPACE
namespace vfio {

/// Where the kernel publishes PCI devices and IOMMU groups ("/sys" on a real system).
struct Sysfs {
    std::filesystem::path root = "/sys";  ///< sysfs mount point (a fake tree in tests)

    /// The sysfs directory of PCI device `bdf` ("0000:01:00.0").
    std::filesystem::path device(std::string_view bdf) const { return root / "bus/pci/devices" / bdf; }
    /// The driver `bdf` is bound to, or "" for none.
    std::string driver_of(std::string_view bdf) const {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(device(bdf) / "driver", ec);
        return ec ? std::string() : target.filename().string();
    }
    /// The IOMMU group number of `bdf`, from its iommu_group link.
    [[nodiscard]] Result<unsigned> group_of(std::string_view bdf) const {
        std::error_code ec;
        const auto dev = device(bdf);
        if (!std::filesystem::exists(dev, ec))
            return fail_with_hint("iommu_group", ENOENT, "no PCI device " + std::string(bdf),
                                  "give the full address, domain included (e.g. 0000:00:04.0); see lspci -D");
        auto target = std::filesystem::read_symlink(dev / "iommu_group", ec);
        if (ec)
            return fail_with_hint("iommu_group", ENOENT, std::string(bdf) + " has no IOMMU group",
                                  "the device is not behind an IOMMU (or no driver has probed it yet): bind it to "
                                  "vfio-pci: echo vfio-pci > " + (dev / "driver_override").string() + "; echo " +
                                      std::string(bdf) + " > " + (root / "bus/pci/drivers_probe").string());
        const std::string name = target.filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
            return fail("iommu_group", EINVAL, std::string(bdf) + " links to group '" + name + "'");
        return static_cast<unsigned>(std::stoul(name));
    }
    /// The devices of group `n`.
    std::vector<std::string> group_devices(unsigned n) const {
        std::vector<std::string> out;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(root / "kernel/iommu_groups" / std::to_string(n) / "devices", ec))
            out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
    /// "0000:00:05.1 (uio_pci_generic)" for each device of group `n` that blocks
    /// its viability: bound to a driver other than vfio-pci.
    std::vector<std::string> blockers(unsigned n) const {
        std::vector<std::string> out;
        for (const auto& d : group_devices(n)) {
            const auto drv = driver_of(d);
            if (!drv.empty() && drv != "vfio-pci" && drv != "pci-stub") out.push_back(d + " (" + drv + ")");
        }
        return out;
    }
};

/// VFIO_GROUP_GET_STATUS.
struct GroupStatus {
    bool viable = false;         ///< every device in the group is bound to a VFIO driver, pci-stub, or none
    bool container_set = false;  ///< the group has joined a container
};

}  // namespace vfio

/// An IOMMU group's fd, /dev/vfio/N: the unit of isolation VFIO hands out.
/// It is checked for viability, attached to a container, and gives out its
/// devices' fds. Move-only.
class VfioGroup {
public:
    VfioGroup() = default;
    /// Takes ownership of the fd of group `number`; `sysfs` is where to look up its devices.
    VfioGroup(UniqueFd fd, unsigned number, vfio::Sysfs sysfs = {}) noexcept
        : fd_(std::move(fd)), number_(number), sysfs_(std::move(sysfs)) {}

    /// Opens /dev/vfio/`number`.
    [[nodiscard]] static Result<VfioGroup> open(unsigned number, vfio::Sysfs sysfs = {}, const char* dev_dir = "/dev/vfio") {
        const std::string path = std::string(dev_dir) + "/" + std::to_string(number);
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        const int e = errno;
        if (trace::enabled()) [[unlikely]]
            sys::trace_ioctl("open", "path=" + path, fd, e);
        if (fd < 0) {
            if (e == ENOENT)
                return fail_with_hint("open", e, path,
                                      "no VFIO group " + std::to_string(number) +
                                          ": no device of that IOMMU group is bound to vfio-pci (or VFIO is not "
                                          "loaded); see /sys/kernel/iommu_groups");
            if (e == EBUSY)
                return fail_with_hint("open", e, path,
                                      "the group is already open, in this process or another (a VMM?); a group "
                                      "can be opened once: share the VfioGroup");
            return fail_with_hint("open", e, path, e == EACCES ? "no permission: run as root or chown the group's node" : "");
        }
        return VfioGroup(UniqueFd(fd), number, std::move(sysfs));
    }

    /// The group of PCI device `bdf`, checked to be bound to vfio-pci first, so
    /// the error says what to do rather than "no such file".
    [[nodiscard]] static Result<VfioGroup> for_device(std::string_view bdf, vfio::Sysfs sysfs = {}, const char* dev_dir = "/dev/vfio") {
        auto n = sysfs.group_of(bdf);
        if (!n) return unexpected<Error>(std::move(n).error());
        const auto drv = sysfs.driver_of(bdf);
        if (drv != "vfio-pci")
            return fail_with_hint("open", ENODEV,
                                  std::string(bdf) + " is bound to " + (drv.empty() ? "no driver" : drv) + ", not vfio-pci",
                                  bind_hint(sysfs, bdf));
        return open(*n, std::move(sysfs), dev_dir);
    }

    /// VFIO_GROUP_GET_STATUS.
    [[nodiscard]] Result<vfio::GroupStatus> status() const {
        vfio_group_status s{};
        s.argsz = sizeof s;
        return sys::ioctl(fd_.get(), VFIO_GROUP_GET_STATUS, "VFIO_GROUP_GET_STATUS", &s, [&] { return describe(); })
            .transform([&](int) {
                return vfio::GroupStatus{(s.flags & VFIO_GROUP_FLAGS_VIABLE) != 0,
                                         (s.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) != 0};
            });
    }

    /// Succeeds when the group is viable; otherwise the error names the devices
    /// of the group that are bound to another driver.
    [[nodiscard]] Result<> check_viable() const {
        auto s = status();
        if (!s) return unexpected<Error>(std::move(s).error());
        if (s->viable) return {};
        std::string list;
        for (const auto& b : sysfs_.blockers(number_)) list += (list.empty() ? "" : ", ") + b;
        return fail_with_hint("VFIO_GROUP_GET_STATUS", EPERM,
                              "group " + std::to_string(number_) + " is not viable: these devices of group " +
                                  std::to_string(number_) + " are not bound to vfio-pci: " + (list.empty() ? "?" : list),
                              "bind every device of the group to vfio-pci (or unbind them) first");
    }

    /// VFIO_GROUP_UNSET_CONTAINER.
    [[nodiscard]] Result<> unset_container() {
        return sys::ioctl(fd_.get(), VFIO_GROUP_UNSET_CONTAINER, "VFIO_GROUP_UNSET_CONTAINER", 0, [&] { return describe(); })
            .transform([](int) {});
    }

    /// VFIO_GROUP_GET_DEVICE_FD for `bdf` (the group must be in a container).
    [[nodiscard]] Result<VfioDevice> device(std::string_view bdf) const {
        const std::string name(bdf);
        auto fd = sys::ioctl(fd_.get(), VFIO_GROUP_GET_DEVICE_FD, "VFIO_GROUP_GET_DEVICE_FD", name.c_str(),
                             [&] { return describe() + " device=" + name; });
        if (!fd) {
            auto e = std::move(fd).error();
            if (e.errnum() == EINVAL)
                return fail_with_hint("VFIO_GROUP_GET_DEVICE_FD", EINVAL, e.detail(),
                                      "attach the group to a container first (VfioContainer::attach), and name a "
                                      "device of this group");
            if (e.errnum() == EBUSY)
                return fail_with_hint("VFIO_GROUP_GET_DEVICE_FD", EBUSY, e.detail(),
                                      "the device is already in use (opened by another VfioDevice or process)");
            return unexpected<Error>(std::move(e));
        }
        return VfioDevice(UniqueFd(*fd), name);
    }

    unsigned number() const noexcept { return number_; }  ///< the N of /dev/vfio/N
    int fd() const noexcept { return fd_.get(); }         ///< the raw group fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }   ///< holds a group fd (not default/moved-from)

private:
    static std::string bind_hint(const vfio::Sysfs& sysfs, std::string_view bdf) {
        const auto dev = sysfs.device(bdf);
        return "bind it to vfio-pci: echo " + std::string(bdf) + " > " + (dev / "driver/unbind").string() +
               "; echo vfio-pci > " + (dev / "driver_override").string() + "; echo " + std::string(bdf) + " > " +
               (sysfs.root / "bus/pci/drivers_probe").string();
    }
    std::string describe() const { return "group=" + std::to_string(number_); }

    UniqueFd fd_;
    unsigned number_ = 0;
    vfio::Sysfs sysfs_;
};

KVMXX_END_NAMESPACE
