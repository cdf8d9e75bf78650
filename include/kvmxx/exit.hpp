// kvmxx/exit.hpp — why KVM_RUN came back, as a typed value.
//
// After KVM_RUN returns, the kernel has written the exit reason and its
// details into the vCPU's shared `kvm_run` page. `decode_exit` turns that
// page into a `kvmxx::Exit`, a std::variant with one struct per exit kind.
// Data spans point *into* kvm_run, so no bytes are copied, and the answer to
// an MMIO read written through `MmioRead::set` is what the guest register
// receives when the vCPU next runs.
//
// Example [exit], built by tests/unit/doc_examples_test.cpp:
//
//     auto exit = cpu.run();
//     if (auto* w = std::get_if<kvmxx::exit::MmioWrite>(&*exit))
//         std::printf("guest wrote %#llx to %#llx\n", static_cast<unsigned long long>(w->value()),
//                     static_cast<unsigned long long>(w->address));
//
// Exit kinds kvmxx does not model become `exit::Unknown` with the raw reason:
// the full kvm_run stays available through `Vcpu::raw_run()`. `describe(exit)`
// says any exit in one line of words, for logs and error messages.
#pragma once

#include "config.hpp"
#include "trace.hpp"

#include <linux/kvm.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

KVMXX_BEGIN_NAMESPACE

/// The exit kinds of KVM_RUN, the alternatives of kvmxx::Exit.
namespace exit {

/// Little-endian bytes → integer (KVM hands MMIO data as the guest's bytes).
inline std::uint64_t load_le(std::span<const std::uint8_t> data) noexcept {
    // The widths an access has, as one load on a little-endian host (a byte loop
    // was ~20 instructions for 4 bytes: benchmarks/instr_count, docs/performance.md).
    if constexpr (std::endian::native == std::endian::little) {
        switch (data.size()) {
            case 1: return data[0];
            case 2: { std::uint16_t v; std::memcpy(&v, data.data(), 2); return v; }
            case 4: { std::uint32_t v; std::memcpy(&v, data.data(), 4); return v; }
            case 8: { std::uint64_t v; std::memcpy(&v, data.data(), 8); return v; }
            default: break;
        }
    }
    std::uint64_t v = 0;
    for (std::size_t i = data.size(); i-- > 0;) v = (v << 8) | data[i];
    return v;
}

/// Integer → little-endian bytes: the low data.size() bytes of `value` into `data`.
inline void store_le(std::span<std::uint8_t> data, std::uint64_t value) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        switch (data.size()) {
            case 1: data[0] = static_cast<std::uint8_t>(value); return;
            case 2: { const auto v = static_cast<std::uint16_t>(value); std::memcpy(data.data(), &v, 2); return; }
            case 4: { const auto v = static_cast<std::uint32_t>(value); std::memcpy(data.data(), &v, 4); return; }
            case 8: std::memcpy(data.data(), &value, 8); return;
            default: break;
        }
    }
    for (auto& b : data) {
        b = static_cast<std::uint8_t>(value);
        value >>= 8;
    }
}

/// The guest stored `data` to guest-physical `address`, outside any memory slot.
struct MmioWrite {
    std::uint64_t address;               ///< guest-physical address written
    std::span<const std::uint8_t> data;  ///< 1, 2, 4 or 8 bytes, in kvm_run
    std::uint64_t value() const noexcept { return load_le(data); }  ///< `data` as a little-endian integer
};

/// The guest loads from `address`. Fill `data` (or call `set`) before the next run().
struct MmioRead {
    std::uint64_t address;         ///< guest-physical address read
    std::span<std::uint8_t> data;  ///< in kvm_run: what you write here reaches the guest
    /// Answers the load: the low data.size() bytes of `value`, little-endian.
    void set(std::uint64_t value) const noexcept { store_le(data, value); }
};

/// x86 port I/O: `count` items of `size` bytes (count > 1 for rep ins/outs).
struct IoOut {
    std::uint16_t port;                  ///< I/O port written
    std::uint8_t size;                   ///< bytes per item: 1, 2 or 4
    std::uint32_t count;                 ///< items
    std::span<const std::uint8_t> data;  ///< size * count bytes, in kvm_run
    /// The first item (0 for an exit with no data: a count of 0, or a size that does not fit).
    std::uint64_t value() const noexcept { return size <= data.size() ? load_le(data.first(size)) : 0; }
};
/// x86 port input: fill `data` (or call `set`) before the next run().
struct IoIn {
    std::uint16_t port;            ///< I/O port read
    std::uint8_t size;             ///< bytes per item: 1, 2 or 4
    std::uint32_t count;           ///< items
    std::span<std::uint8_t> data;  ///< size * count bytes in kvm_run: what you write here reaches the guest
    /// Answers the first item: the low `size` bytes of `value`, little-endian.
    void set(std::uint64_t value) const noexcept { store_le(data.first(size < data.size() ? size : data.size()), value); }
};

/// A VM-wide event the guest asked for: on arm64, PSCI SYSTEM_OFF / SYSTEM_RESET.
struct SystemEvent {
    /// The KVM_SYSTEM_EVENT_* kinds a VMM most often meets (others pass through as numbers).
    enum Type : std::uint32_t {
        Shutdown = KVM_SYSTEM_EVENT_SHUTDOWN,  ///< power off (PSCI SYSTEM_OFF)
        Reset = KVM_SYSTEM_EVENT_RESET,        ///< reboot (PSCI SYSTEM_RESET)
        Crash = KVM_SYSTEM_EVENT_CRASH,        ///< the guest reported a crash
    };
    std::uint32_t type;           ///< KVM_SYSTEM_EVENT_* (see Type)
    std::span<const __u64> data;  ///< ndata words (older kernels: the flags word)
    bool is_shutdown() const noexcept { return type == Shutdown; }  ///< the guest powered off
    bool is_reset() const noexcept { return type == Reset; }        ///< the guest asked to reboot
};

struct Hlt {};       ///< x86 HLT with no in-kernel LAPIC
struct Shutdown {};  ///< x86 triple fault
/// KVM could not handle something; `data` has the kernel's diagnostic words.
struct InternalError {
    std::uint32_t suberror;       ///< KVM_INTERNAL_ERROR_* (e.g. emulation failed)
    std::span<const __u64> data;  ///< ndata diagnostic words, in kvm_run
};
/// The hardware refused VM entry (bad guest state).
struct FailEntry {
    std::uint64_t reason;  ///< hardware_entry_failure_reason (VMX/SVM exit code)
    std::uint32_t cpu;     ///< host CPU the entry failed on
};
/// KVM_RUN returned early: a signal (a kick) or `immediate_exit` was set.
struct Interrupted {};
/// A vCPU's dirty ring is full (KVM_EXIT_DIRTY_RING_FULL): harvest it
/// (Vcpu::harvest_dirty_ring), call Vm::reset_dirty_rings, then run again.
struct DirtyRingFull {};
/// KVM_EXIT_MEMORY_FAULT (Linux 6.8, KVM_CAP_MEMORY_FAULT_INFO): KVM_RUN failed (EFAULT or
/// EHWPOISON) on guest-physical [gpa, gpa+size) and says why in kvm_run. With
/// `is_private()` the guest touched the range as private memory where the VM's memory
/// attributes say shared, or the other way round (a guest_memfd slot): convert it with
/// Vm::set_memory_attributes and run again.
struct MemoryFault {
    std::uint64_t flags;  ///< KVM_MEMORY_EXIT_FLAG_* (PRIVATE = 1 << 3)
    std::uint64_t gpa;    ///< guest-physical start of the range
    std::uint64_t size;   ///< bytes
    bool is_private() const noexcept { return (flags & (1ull << 3)) != 0; }  ///< the access was to private memory
};
/// An exit kvmxx does not model: look at `Vcpu::raw_run()` yourself.
struct Unknown {
    std::uint32_t reason;  ///< kvm_run's exit_reason (KVM_EXIT_*; see exit_reason_name)
};

}  // namespace exit

/// Why one KVM_RUN returned: one alternative per exit kind (decode_exit).
///
/// Safety: the spans of an exit (MMIO and port data, an internal error's data)
/// point into the vCPU's kvm_run page and are valid until that vCPU's next run()
/// or its destruction; copy what must last longer. Their contents are the guest's.
using Exit = std::variant<exit::MmioRead, exit::MmioWrite, exit::IoIn, exit::IoOut,
                          exit::SystemEvent, exit::Hlt, exit::Shutdown, exit::InternalError,
                          exit::FailEntry, exit::Interrupted, exit::DirtyRingFull, exit::MemoryFault,
                          exit::Unknown>;

/// The KVM_EXIT_* name of an exit reason, for traces and messages.
inline const char* exit_reason_name(std::uint32_t reason) noexcept {
    switch (reason) {
        case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
        case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
        case KVM_EXIT_IO: return "KVM_EXIT_IO";
        case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
        case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
        case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
        case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
        case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
        case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
        case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
        case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
        case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
        case KVM_EXIT_ARM_NISV: return "KVM_EXIT_ARM_NISV";
        case KVM_EXIT_X86_RDMSR: return "KVM_EXIT_X86_RDMSR";
        case KVM_EXIT_X86_WRMSR: return "KVM_EXIT_X86_WRMSR";
        case KVM_EXIT_DIRTY_RING_FULL: return "KVM_EXIT_DIRTY_RING_FULL";
        case 39: return "KVM_EXIT_MEMORY_FAULT";  // Linux 6.8, newer than some headers
        default: return "KVM_EXIT_?";
    }
}

/// Decodes the exit KVM wrote into `run`. `run_size` is the size of the
/// mapping (KVM_GET_VCPU_MMAP_SIZE): port-I/O data that would lie outside it
/// decodes as Unknown rather than a span past the end.
inline Exit decode_exit(kvm_run& run, std::size_t run_size) noexcept {
    // MMIO and port I/O, the exits device models live on, are tested before the switch:
    // one compare each instead of the jump table's five instructions (benchmarks/instr_count).
    if (run.exit_reason == KVM_EXIT_MMIO) [[likely]] {
        const std::size_t len = run.mmio.len <= sizeof run.mmio.data ? run.mmio.len : 0;
        if (len == 0) [[unlikely]]
            return exit::Unknown{run.exit_reason};
        if (run.mmio.is_write)
            return exit::MmioWrite{run.mmio.phys_addr, {run.mmio.data, len}};
        return exit::MmioRead{run.mmio.phys_addr, {run.mmio.data, len}};
    }
    if (run.exit_reason == KVM_EXIT_IO) {
        const std::uint64_t bytes = std::uint64_t{run.io.size} * run.io.count;
        if (run.io.data_offset > run_size || bytes > run_size - run.io.data_offset)
            return exit::Unknown{run.exit_reason};
        auto* base = reinterpret_cast<std::uint8_t*>(&run) + run.io.data_offset;
        if (run.io.direction == KVM_EXIT_IO_OUT)
            return exit::IoOut{run.io.port, run.io.size, run.io.count, {base, bytes}};
        return exit::IoIn{run.io.port, run.io.size, run.io.count, {base, bytes}};
    }
    switch (run.exit_reason) {
        case KVM_EXIT_SYSTEM_EVENT: {
            // Kernels before 5.18 set only `flags` (the first word); newer ones set ndata.
            std::size_t n = run.system_event.ndata;
            if (n == 0 || n > 16) n = 1;
            return exit::SystemEvent{run.system_event.type, {run.system_event.data, n}};
        }
        case KVM_EXIT_HLT: return exit::Hlt{};
        case KVM_EXIT_SHUTDOWN: return exit::Shutdown{};
        case KVM_EXIT_INTR: return exit::Interrupted{};
        case KVM_EXIT_DIRTY_RING_FULL: return exit::DirtyRingFull{};
        case KVM_EXIT_INTERNAL_ERROR: {
            std::size_t n = run.internal.ndata;
            if (n > 16) n = 16;
            return exit::InternalError{run.internal.suberror, {run.internal.data, n}};
        }
        case KVM_EXIT_FAIL_ENTRY:
            return exit::FailEntry{run.fail_entry.hardware_entry_failure_reason, run.fail_entry.cpu};
        case 39: {  // KVM_EXIT_MEMORY_FAULT: flags, gpa, size at the start of kvm_run's exit union
            std::uint64_t words[3];
            std::memcpy(words, reinterpret_cast<const std::uint8_t*>(&run.mmio), sizeof words);
            return exit::MemoryFault{words[0], words[1], words[2]};
        }
        default: return exit::Unknown{run.exit_reason};
    }
}

/// The KVM_EXIT_* reason an exit value stands for (KVM_EXIT_INTR for Interrupted,
/// which a kick's EINTR also produces).
inline std::uint32_t exit_reason(const Exit& exit) noexcept {
    return std::visit(
        [](const auto& e) -> std::uint32_t {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, exit::MmioRead> || std::is_same_v<E, exit::MmioWrite>) return KVM_EXIT_MMIO;
            else if constexpr (std::is_same_v<E, exit::IoIn> || std::is_same_v<E, exit::IoOut>) return KVM_EXIT_IO;
            else if constexpr (std::is_same_v<E, exit::SystemEvent>) return KVM_EXIT_SYSTEM_EVENT;
            else if constexpr (std::is_same_v<E, exit::Hlt>) return KVM_EXIT_HLT;
            else if constexpr (std::is_same_v<E, exit::Shutdown>) return KVM_EXIT_SHUTDOWN;
            else if constexpr (std::is_same_v<E, exit::InternalError>) return KVM_EXIT_INTERNAL_ERROR;
            else if constexpr (std::is_same_v<E, exit::FailEntry>) return KVM_EXIT_FAIL_ENTRY;
            else if constexpr (std::is_same_v<E, exit::Interrupted>) return KVM_EXIT_INTR;
            else if constexpr (std::is_same_v<E, exit::DirtyRingFull>) return KVM_EXIT_DIRTY_RING_FULL;
            else if constexpr (std::is_same_v<E, exit::MemoryFault>) return 39;  // KVM_EXIT_MEMORY_FAULT
            else return e.reason;
        },
        exit);
}

/// Words for KVM_EXIT_INTERNAL_ERROR's suberror (KVM_INTERNAL_ERROR_*).
inline const char* internal_error_name(std::uint32_t suberror) noexcept {
    switch (suberror) {
        case 1: return "emulation failed (an instruction KVM cannot emulate, e.g. on MMIO it cannot decode)";
        case 2: return "simultaneous exceptions KVM cannot deliver";
        case 3: return "an exit while delivering an event (e.g. the IDT or stack of the exception is not in guest memory)";
        case 4: return "an exit reason KVM does not know";
        default: return "suberror unknown to kvmxx";
    }
}

/// Words for KVM_EXIT_FAIL_ENTRY's hardware_entry_failure_reason: a VMX basic
/// exit reason on Intel, SVM_EXIT_ERR (-1) on AMD.
inline const char* entry_failure_name(std::uint64_t reason) noexcept {
    switch (reason & 0xffff) {
        case 33: return "VMX: invalid guest state (check segment, control and descriptor registers)";
        case 34: return "VMX: an MSR in the VM-entry MSR-load area was refused";
        case 41: return "VMX: machine check during VM entry";
        default: break;
    }
    if (reason == ~std::uint64_t{0}) return "SVM: VMRUN refused the guest state (SVM_EXIT_ERR)";
    return "reason unknown to kvmxx (see the CPU vendor's manual)";
}

/// One line of words for any exit, e.g.
/// "exit=KVM_EXIT_MMIO dir=write addr=0xa000000 len=4 data=0x42", or
/// "exit=KVM_EXIT_INTERNAL_ERROR suberror=1 what="emulation failed ..." data=0x0,0x6".
///
/// Example [describe], built by tests/unit/doc_examples_test.cpp:
///
///     auto exit = cpu.run();
///     if (exit) std::puts(kvmxx::describe(*exit).c_str());
inline std::string describe(const Exit& exit) {
    auto quoted = [](const char* words) { return std::string("\"") + words + "\""; };
    trace::Args a;
    a.str("exit", exit_reason_name(exit_reason(exit)));
    if (auto* w = std::get_if<exit::MmioWrite>(&exit))
        a.str("dir", "write").hex("addr", w->address).dec("len", w->data.size()).hex("data", w->value());
    else if (auto* r = std::get_if<exit::MmioRead>(&exit))
        a.str("dir", "read").hex("addr", r->address).dec("len", r->data.size());
    else if (auto* o = std::get_if<exit::IoOut>(&exit))
        a.str("dir", "out").hex("port", o->port).dec("size", o->size).hex("data", o->value());
    else if (auto* i = std::get_if<exit::IoIn>(&exit))
        a.str("dir", "in").hex("port", i->port).dec("size", i->size);
    else if (auto* s = std::get_if<exit::SystemEvent>(&exit))
        a.str("event", s->is_shutdown() ? "shutdown" : s->is_reset() ? "reset" : s->type == exit::SystemEvent::Crash ? "crash" : "other")
            .dec("type", s->type);
    else if (auto* e = std::get_if<exit::InternalError>(&exit)) {
        a.dec("suberror", e->suberror).str("what", quoted(internal_error_name(e->suberror)));
        std::string words;
        for (auto d : e->data) {
            if (!words.empty()) words += ',';
            words += trace::hex(d);
        }
        if (!words.empty()) a.str("data", words);
    } else if (auto* f = std::get_if<exit::FailEntry>(&exit))
        a.hex("reason", f->reason).str("what", quoted(entry_failure_name(f->reason))).dec("cpu", f->cpu);
    else if (auto* m = std::get_if<exit::MemoryFault>(&exit))
        a.hex("gpa", m->gpa).hex("size", m->size).hex("flags", m->flags).str("access", m->is_private() ? "private" : "shared");
    else if (auto* u = std::get_if<exit::Unknown>(&exit))
        a.dec("reason", u->reason);
    return a.take();
}

KVMXX_END_NAMESPACE
