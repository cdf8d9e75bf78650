// irq_modes.hpp — a passed-through function's interrupt mode, INTx, MSI or
// MSI-X (one at a time, as the guest's driver enables them), and its vectors.
// Every interrupt is delivered by the kernel without this process (see
// docs/interrupt-path.md):
//   INTx   vfio eventfd → KVM_IRQFD with resample on the slot's SPI (level);
//          the guest's EOI signals vfio's unmask eventfd.
//   MSI    one vector: vfio eventfd → KVM_IRQFD on a GSI routed (GsiRouter) to
//          the message the guest wrote, with the ITS device id = requester id.
//   MSI-X  the same per vector; a masked vector has its irqfd removed, so its
//          eventfd holds the interrupt until unmasked (KVM_IRQFD injects a
//          pending one on assign).
//
//     vmm::InterruptModes irqs(dev, vm, router, {.intx_spi = 17, .requester_id = 0x8, .bdf = "0000:00:04.0", .slot = 1});
//     irqs.add_vectors(4);
//     irqs.switch_to(vmm::InterruptModes::Mode::Msix);
//     irqs.update_vector(0, {.address = doorbell, .data = 3, .devid = 0x8}, false);
#pragma once

#include "errors.hpp"
#include "gsi_router.hpp"
#include "log_limit.hpp"

#include <kvmxx/kvmxx.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vmm {

class InterruptModes {
public:
    enum class Mode { None, Intx, Msi, Msix };
    struct Wiring {
        std::uint32_t intx_spi = 0;      ///< the SPI the device tree gives the slot
        std::uint32_t requester_id = 0;  ///< the ITS device id of the MSIs
        std::string bdf;                 ///< the host's address, for messages
        unsigned slot = 0;               ///< the guest's, for messages
    };

    InterruptModes(kvmxx::VfioDevice& dev, kvmxx::Vm& vm, GsiRouter& router, Wiring w)
        : dev_(dev), vm_(vm), router_(router), w_(std::move(w)) {}
    InterruptModes(const InterruptModes&) = delete;
    InterruptModes& operator=(const InterruptModes&) = delete;
    ~InterruptModes() { leave(); }

    Mode mode() const noexcept { return mode_; }

    /// `n` vectors (MSI takes the first, MSI-X all): an eventfd and a GSI each.
    kvmxx::Result<> add_vectors(unsigned n) {
        const auto first = router_.allocate(n);
        for (unsigned i = 0; i < n; ++i) {
            auto ev = kvmxx::EventFd::create();
            if (!ev) return kvmxx::unexpected<kvmxx::Error>(std::move(ev).error());
            vectors_.push_back({std::move(*ev), first + i, false});
        }
        return {};
    }

    /// Leaves the current mode and enters `to` (a failure is warned of: the guest sees no interrupts).
    void switch_to(Mode to) {
        leave();
        if (auto r = enter(to); !r) warn(r.error().message());
    }

    /// Enters `to` from Mode::None: hands vfio the eventfds (INTx: with the irqfd
    /// on the slot's SPI; MSI/MSI-X: irqfds follow, per vector, in update_vector).
    kvmxx::Result<> enter(Mode to) {
        using kvmxx::vfio::Irq;
        if (to == Mode::Intx) {
            if (!intx_) {  // first time: the trigger and unmask eventfds
                auto trigger = kvmxx::EventFd::create();
                if (!trigger) return kvmxx::unexpected<kvmxx::Error>(std::move(trigger).error());
                auto unmask = kvmxx::EventFd::create();
                if (!unmask) return kvmxx::unexpected<kvmxx::Error>(std::move(unmask).error());
                intx_.emplace(Intx{std::move(*trigger), std::move(*unmask)});
            }
            if (auto r = dev_.set_irq(Irq::Intx, intx_->trigger); !r) return r;
            if (auto r = dev_.set_unmask_eventfd(Irq::Intx, intx_->unmask); !r) return r;
            if (auto r = vm_.irqfd(intx_->trigger, intx_gsi(), intx_->unmask); !r) return r;
            note("INTx → SPI " + std::to_string(w_.intx_spi) + " (irqfd with resample = vfio unmask)");
        } else if (to == Mode::Msi || to == Mode::Msix) {
            const std::size_t n = to == Mode::Msi ? 1 : vectors_.size();
            std::vector<int> fds;
            for (std::size_t i = 0; i < n && i < vectors_.size(); ++i) fds.push_back(vectors_[i].event.event_fd());
            if (auto r = dev_.set_irq_eventfds(to == Mode::Msi ? Irq::Msi : Irq::Msix, 0, fds); !r) return r;
        }
        mode_ = to;
        return {};
    }

    /// Vector `v` delivers `msi` unless masked: route its GSI, (de)assign its irqfd.
    void update_vector(unsigned v, const kvmxx::Msi& msi, bool masked) {
        if (v >= vectors_.size()) return;
        auto& vec = vectors_[v];
        if (masked) {
            if (vec.injecting) (void)vm_.remove_irqfd(vec.event, vec.gsi);
            vec.injecting = false;
            return;
        }
        if (auto r = router_.route_msi(vec.gsi, msi); !r) return warn(r.error().message());
        if (!vec.injecting) {
            if (auto r = vm_.irqfd(vec.event, vec.gsi); !r) return warn(r.error().message());
            vec.injecting = true;
            note(std::string(mode_ == Mode::Msi ? "MSI" : "MSI-X") + " vector " + std::to_string(v) + " → GSI " +
                 std::to_string(vec.gsi) + " (ITS device id " + kvmxx::trace::hex(w_.requester_id) + ", event " +
                 std::to_string(msi.data) + ")");
        }
    }

    /// Back to Mode::None: vfio's interrupts off, every irqfd and MSI route gone.
    void leave() {
        using kvmxx::vfio::Irq;
        if (mode_ == Mode::Intx) {
            (void)vm_.remove_irqfd(intx_->trigger, intx_gsi());
            (void)dev_.disable_irqs(Irq::Intx);
        } else if (mode_ == Mode::Msi || mode_ == Mode::Msix) {
            (void)dev_.disable_irqs(mode_ == Mode::Msi ? Irq::Msi : Irq::Msix);
            for (auto& v : vectors_) {
                if (v.injecting) (void)vm_.remove_irqfd(v.event, v.gsi);
                v.injecting = false;
                (void)router_.remove(v.gsi);
            }
        }
        mode_ = Mode::None;
    }

    /// A problem the guest will notice (no interrupts), on stderr: "kvmxx-vmm: BDF: what";
    /// ten, then one each 10 s (LogLimit): the guest may cause them in a loop.
    void warn(const std::string& what) const {
        if (const auto line = limit_->admit(what); !line.empty())
            std::fprintf(stderr, "kvmxx-vmm: %s: %s\n", w_.bdf.c_str(), line.c_str());
    }
    /// A --trace line: "vmm: BDF (guest 00:SS.0) what".
    void note(const std::string& what) const {
        const char slot[] = {char('0' + w_.slot / 10 % 10), char('0' + w_.slot % 10), 0};
        vmm::note(w_.bdf + " (guest 00:" + slot + ".0) " + what);
    }

private:
    struct Vector {
        kvmxx::EventFd event;
        std::uint32_t gsi = 0;
        bool injecting = false;  ///< an irqfd is assigned
    };
    struct Intx {
        kvmxx::EventFd trigger, unmask;
    };
    std::uint32_t intx_gsi() const { return kvmxx::arm64::spi_gsi(w_.intx_spi); }

    kvmxx::VfioDevice& dev_;
    kvmxx::Vm& vm_;
    GsiRouter& router_;
    Wiring w_;
    std::unique_ptr<LogLimit> limit_ = std::make_unique<LogLimit>();
    std::vector<Vector> vectors_;
    std::optional<Intx> intx_;
    Mode mode_ = Mode::None;
};

}  // namespace vmm
