// kvmxx/mmio_bus.hpp — `MmioBus`: guest-physical ranges → the devices that serve them.
//
// Every emulated device of a VMM is a range of guest-physical addresses plus code
// that answers reads and writes there (a kvmxx::MmioHandler). The bus takes a
// vCPU's MMIO exit, finds the one range that holds the whole access and calls
// that device with the offset inside it:
//
//   - ranges never overlap: `add` refuses one that does, naming both devices;
//   - each device has its own lock: two vCPUs reaching two devices run at once,
//     two reaching one device take turns (so a device needs no locking of its own);
//   - an access no device claims (a hole, or one straddling a range's end) reads
//     as zero and is ignored, as on a bus without a decoder; the trace reports it.
//
// Example [mmio_bus], built by tests/unit/doc_examples_test.cpp:
//
//     kvmxx::MmioBus bus;
//     if (auto r = bus.add("uart", 0x0900'0000, 0x1000, uart); !r) return r;
//     auto exit = cpu.run();
//     if (exit && bus.handle(*exit)) { /* an MMIO exit, served */ }
//
// Add every device before the vCPUs run: `add` may not race with accesses.
#pragma once

#include "config.hpp"
#include "concepts.hpp"
#include "error.hpp"
#include "exit.hpp"
#include "trace.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

KVMXX_BEGIN_NAMESPACE

/// Guest-physical ranges mapped to the MmioHandler devices that serve them;
/// handle() dispatches a vCPU's MMIO exit to the one device whose range holds
/// it. Non-overlapping ranges, a lock per device. Move-only.
class MmioBus {
public:
    MmioBus() = default;
    MmioBus(const MmioBus&) = delete;
    MmioBus& operator=(const MmioBus&) = delete;
    /// Takes over `other`'s ranges; not while a vCPU may be using either bus.
    MmioBus(MmioBus&&) noexcept = default;
    /// Takes over `other`'s ranges; not while a vCPU may be using either bus.
    MmioBus& operator=(MmioBus&&) noexcept = default;

    /// Puts `device` (which must outlive the bus) at [base, base + size), named
    /// `name` in errors and the trace. Refused with EEXIST when the range overlaps
    /// one already on the bus (the error names both devices and their ranges), and
    /// with EINVAL when it is empty or runs past the top of the address space.
    ///
    /// Example [mmio_bus_add], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto ok = bus.add("uart", 0x0900'0000, 0x1000, uart);        // ok
    ///     auto clash = bus.add("rtc", 0x0900'0800, 0x1000, rtc);       // EEXIST: overlaps "uart"
    template <MmioHandler H>
    [[nodiscard]] Result<> add(std::string name, std::uint64_t base, std::uint64_t size, H& device) {
        auto entry = std::make_unique<Entry>();
        entry->name = std::move(name);
        entry->base = base;
        entry->size = size;
        entry->device = &device;
        entry->read = [](void* d, std::uint64_t offset, std::span<std::uint8_t> data) {
            static_cast<H*>(d)->read(offset, data);
        };
        entry->write = [](void* d, std::uint64_t offset, std::span<const std::uint8_t> data) {
            static_cast<H*>(d)->write(offset, data);
        };
        return insert(std::move(entry));
    }

    /// Serves a guest load of `data.size()` bytes at `gpa`: fills `data` from the
    /// device whose range holds it all, or with zeros. True when a device claimed it.
    bool read(std::uint64_t gpa, std::span<std::uint8_t> data) {
        std::fill(data.begin(), data.end(), std::uint8_t{0});
        Entry* e = find(gpa, data.size());
        if (!e) return unclaimed("read", gpa, data.size());
        std::lock_guard lock(e->lock);
        e->read(e->device, gpa - e->base, data);
        return true;
    }

    /// Serves a guest store of `data` at `gpa`; dropped when no device's range
    /// holds it all. True when a device claimed it.
    bool write(std::uint64_t gpa, std::span<const std::uint8_t> data) {
        Entry* e = find(gpa, data.size());
        if (!e) return unclaimed("write", gpa, data.size());
        std::lock_guard lock(e->lock);
        e->write(e->device, gpa - e->base, data);
        return true;
    }

    /// Serves an MMIO exit (a read's answer goes into the exit's data, which KVM
    /// hands the guest on the next run). False when the exit is not MMIO.
    ///
    /// Example [mmio_bus_handle], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     if (!bus.handle(exit)) { /* not MMIO: a system event, a halt, ... */ }
    bool handle(const Exit& exit) {
        if (auto* w = std::get_if<exit::MmioWrite>(&exit)) {
            write(w->address, w->data);
            return true;
        }
        if (auto* r = std::get_if<exit::MmioRead>(&exit)) {
            read(r->address, r->data);
            return true;
        }
        return false;
    }

    /// The name of the device that would serve an access of `size` bytes at
    /// `gpa`, or "" when none would.
    std::string_view device_at(std::uint64_t gpa, std::size_t size = 1) const {
        const Entry* e = find(gpa, size);
        return e ? std::string_view(e->name) : std::string_view();
    }

    /// How many devices are on the bus.
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::string name;
        std::uint64_t base = 0, size = 0;
        void* device = nullptr;
        void (*read)(void*, std::uint64_t, std::span<std::uint8_t>) = nullptr;
        void (*write)(void*, std::uint64_t, std::span<const std::uint8_t>) = nullptr;
        std::mutex lock;  ///< this device's: held while it serves one access

        std::uint64_t last() const noexcept { return base + (size - 1); }
        std::string describe() const { return name + " at " + trace::hex(base) + "-" + trace::hex(last()); }
    };

    Result<> insert(std::unique_ptr<Entry> entry) {
        if (entry->size == 0 || entry->base + (entry->size - 1) < entry->base)
            return fail_with_hint("MmioBus::add", EINVAL,
                                  entry->name + " at " + trace::hex(entry->base) + " size " + trace::hex(entry->size),
                                  "give a non-empty range below the top of the address space");
        // Sorted by base: the first range ending at or after the new base is the
        // only one that can overlap it from below or from inside.
        auto at = std::lower_bound(entries_.begin(), entries_.end(), entry->base,
                                   [](const std::unique_ptr<Entry>& e, std::uint64_t base) { return e->last() < base; });
        if (at != entries_.end() && (*at)->base <= entry->last())
            return fail_with_hint("MmioBus::add", EEXIST, entry->describe() + " overlaps " + (*at)->describe(),
                                  "give each device its own range");
        entries_.insert(at, std::move(entry));
        return {};
    }

    Entry* find(std::uint64_t gpa, std::size_t len) const {
        auto at = std::upper_bound(entries_.begin(), entries_.end(), gpa,
                                   [](std::uint64_t a, const std::unique_ptr<Entry>& e) { return a < e->base; });
        if (at == entries_.begin()) return nullptr;
        Entry* e = std::prev(at)->get();
        const std::uint64_t offset = gpa - e->base;
        if (offset >= e->size || len > e->size - offset) return nullptr;  // past it, or straddling its end
        return e;
    }

    static bool unclaimed(const char* what, std::uint64_t gpa, std::size_t len) {
        if (trace::enabled())
            trace::emit(std::string("mmio: unclaimed ") + what + " of " + std::to_string(len) + " byte(s) at " +
                        trace::hex(gpa) + (std::string_view(what) == "read" ? ": reads as zero" : ": dropped"));
        return false;
    }

    std::vector<std::unique_ptr<Entry>> entries_;  ///< sorted by base, never overlapping
};

KVMXX_END_NAMESPACE
