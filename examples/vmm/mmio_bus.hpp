// mmio_bus.hpp — routes the vCPUs' MMIO exits to the emulated devices. Every
// device is a kvmxx::MmioHandler behind a lock (vCPU threads share devices).
// An access no device claims reads as zero and is ignored, as on real buses
// without a decoder; --trace reports it.
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace vmm {

class MmioBus {
public:
    template <kvmxx::MmioHandler H>
    void add(std::string name, std::uint64_t base, std::uint64_t size, H& device) {
        windows_.push_back({std::move(name), base, size, [&device](std::uint64_t off, std::span<std::uint8_t> d, bool w) {
                                if (w) device.write(off, d);
                                else device.read(off, d);
                            }});
    }

    /// Handles one MMIO exit; false when the exit is not MMIO.
    bool handle(const kvmxx::Exit& exit) {
        if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&exit)) {
            route(w->address, {const_cast<std::uint8_t*>(w->data.data()), w->data.size()}, true);
            return true;
        }
        if (auto* r = std::get_if<kvmxx::exit::MmioRead>(&exit)) {
            std::fill(r->data.begin(), r->data.end(), 0);
            route(r->address, r->data, false);
            return true;
        }
        return false;
    }

private:
    struct Window {
        std::string name;
        std::uint64_t base, size;
        std::function<void(std::uint64_t, std::span<std::uint8_t>, bool)> access;
    };
    void route(std::uint64_t addr, std::span<std::uint8_t> data, bool is_write) {
        std::lock_guard lock(mutex_);
        for (auto& w : windows_)
            if (addr >= w.base && addr - w.base < w.size && data.size() <= w.size - (addr - w.base)) {
                w.access(addr - w.base, data, is_write);
                return;
            }
        if (kvmxx::trace::enabled())
            kvmxx::trace::emit("vmm: unclaimed MMIO " + std::string(is_write ? "write" : "read") + " at " +
                               kvmxx::trace::hex(addr));
    }
    std::vector<Window> windows_;
    std::mutex mutex_;
};

}  // namespace vmm
