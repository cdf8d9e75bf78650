// kvmxx/vcpu.hpp — `Vcpu`: one virtual CPU, its run loop and its registers.
//
// A vCPU is an fd plus a page the kernel shares with us (`kvm_run`) where each
// KVM_RUN reports why the guest stopped. `run()` issues exactly one KVM_RUN
// and returns the exit as a typed value (kvmxx/exit.hpp); nothing is
// allocated or copied per exit.
//
// Example [run_loop], built by tests/unit/doc_examples_test.cpp:
//
//     auto cpu = vm.create_vcpu(0);
//     if (!cpu) return kvmxx::unexpected(cpu.error());
//     for (;;) {
//         auto exit = cpu->run();                     // KVM_RUN
//         if (!exit) return kvmxx::unexpected(exit.error());
//         if (auto* r = std::get_if<kvmxx::exit::MmioRead>(&*exit)) r->set(42);
//         else if (std::holds_alternative<kvmxx::exit::SystemEvent>(*exit)) return {};
//     }
//
// Another thread stops a running vCPU with a `VcpuKicker` (see below).
#pragma once

#include "arm64/regs.hpp"
#include "arm64/sve.hpp"
#include "config.hpp"
#include "device.hpp"
#include "error.hpp"
#include "exit.hpp"
#include "ioctl.hpp"
#include "mapping.hpp"
#include "reg_id.hpp"
#include "stats.hpp"
#include "trace.hpp"
#include "uapi.hpp"
#include "unique_fd.hpp"
#include "x86/cpuid.hpp"
#include "x86/vcpu_state.hpp"

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

KVMXX_BEGIN_NAMESPACE

namespace detail {

/// The ids KVM_GET_REG_LIST wrote into `list`: as many as it says, but never
/// more than the room the caller gave (the count is the kernel's to write).
inline std::vector<std::uint64_t> reg_list_ids(const uapi::FlexArg<uapi::RegListHead, std::uint64_t>& list) {
    const std::uint64_t n = list.head().n < list.capacity() ? list.head().n : list.capacity();
    auto ids = list.entries(static_cast<std::size_t>(n));
    return std::vector<std::uint64_t>(ids.begin(), ids.end());
}

/// What a kicker shares with its vCPU: the kvm_run mapping (kept alive while
/// any kicker exists, so a late kick never writes to unmapped memory) and the
/// thread that last called run().
struct VcpuShared {
    Mapping run_page;
    std::atomic<pthread_t> thread{};
};

inline std::atomic<int> kick_signal_number{0};

inline void kick_handler(int) {}  // the signal only has to interrupt KVM_RUN

/// SIGRTMIN+1 unless the application chose another; its handler is
/// installed once, and only if the signal still has the default action.
inline int ensure_kick_signal() noexcept {
    int sig = kick_signal_number.load(std::memory_order_acquire);
    if (sig != 0) return sig;
    sig = SIGRTMIN + 1;
    struct sigaction current{};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        struct sigaction sa{};
        sa.sa_handler = &kick_handler;
        sigemptyset(&sa.sa_mask);
        ::sigaction(sig, &sa, nullptr);  // no SA_RESTART: KVM_RUN must return
    }
    int expected = 0;
    kick_signal_number.compare_exchange_strong(expected, sig, std::memory_order_acq_rel);
    return kick_signal_number.load(std::memory_order_acquire);
}

}  // namespace detail

/// Uses `signal` instead of SIGRTMIN+1 to kick vCPU threads. Call before the
/// first kicker is made; the application then owns that signal's handler,
/// which must not use SA_RESTART.
inline void set_kick_signal(int signal) noexcept {
    detail::kick_signal_number.store(signal, std::memory_order_release);
}

/// Makes a vCPU's current or next `run()` return `exit::Interrupted`.
///
/// Safe from any thread and from a signal handler: it stores 1 into
/// `kvm_run.immediate_exit` (an atomic byte store that touches nothing else in
/// kvm_run) and then signals the thread that runs the vCPU, which knocks it out
/// of KVM_RUN if it is inside. Kicks that arrive before the vCPU notices the
/// first are merged into one Interrupted exit, as signals are.
///
/// Example [kicker], built by tests/unit/doc_examples_test.cpp:
///
///     std::thread([kick] { kick.kick(); }).join();
///
/// Do not kick after the vCPU's thread has exited (the kicker cannot know).
class VcpuKicker {
public:
    VcpuKicker() = default;
    /// For Vcpu::kicker(), which shares the vCPU's kvm_run page and thread id with it.
    explicit VcpuKicker(std::shared_ptr<detail::VcpuShared> shared)
        : shared_(std::move(shared)), signal_(detail::ensure_kick_signal()) {}

    /// Sets immediate_exit and signals the vCPU's thread; does nothing on an
    /// empty kicker.
    void kick() const noexcept {
        if (!shared_) return;
        auto* run = reinterpret_cast<kvm_run*>(shared_->run_page.data());
        std::atomic_ref<std::uint8_t>(run->immediate_exit).store(1, std::memory_order_release);
        const pthread_t t = shared_->thread.load(std::memory_order_acquire);
        if (t != pthread_t{}) ::pthread_kill(t, signal_);
    }

private:
    std::shared_ptr<detail::VcpuShared> shared_;
    int signal_ = 0;
};

#if KVMXX_ARCH_ARM64
namespace arm64 {
/// KVM_ARM_VCPU_INIT feature bits, by name.
struct VcpuFeatures {
    bool power_off = false;  ///< start stopped; the guest starts it with PSCI CPU_ON
    bool psci_0_2 = true;    ///< PSCI 0.2+ (CPU_ON, SYSTEM_OFF, SYSTEM_RESET)
    bool pmu_v3 = false;     ///< a PMUv3 (set up through the vCPU's device attributes before the first run)
    bool sve = false;        ///< also finalizes SVE after init
    bool ptrauth = false;    ///< address + generic pointer authentication
    /// With `sve`: the vector lengths the guest may use (KVM_REG_ARM64_SVE_VLS);
    /// none = every length the host has.
    std::optional<SveVectorLengths> sve_lengths{};

    /// Sets the KVM_ARM_VCPU_* bits chosen here in `init.features` (others are kept).
    void apply(kvm_vcpu_init& init) const noexcept {
        auto set = [&](unsigned bit) { init.features[bit / 32] |= 1u << (bit % 32); };
        if (power_off) set(KVM_ARM_VCPU_POWER_OFF);
        if (psci_0_2) set(KVM_ARM_VCPU_PSCI_0_2);
        if (pmu_v3) set(KVM_ARM_VCPU_PMU_V3);
        if (sve) set(KVM_ARM_VCPU_SVE);
        if (ptrauth) {
            set(KVM_ARM_VCPU_PTRAUTH_ADDRESS);
            set(KVM_ARM_VCPU_PTRAUTH_GENERIC);
        }
    }
};
}  // namespace arm64
#endif

/// One page a dirty ring reported: `offset` is the page's index in memory slot `slot`
/// (`struct kvm_dirty_gfn` without its flags; bits 16-31 of `slot` name the address space).
struct DirtyGfn {
    std::uint32_t slot = 0;    ///< the memory slot (address space in bits 16-31)
    std::uint64_t offset = 0;  ///< the page's index within the slot
    /// Same slot and page.
    friend bool operator==(const DirtyGfn&, const DirtyGfn&) = default;
};

/// One vCPU fd (from Vm::create_vcpu) and its mmapped kvm_run page: run() and
/// its typed exits, registers, and a kicker for other threads. Move-only; run
/// it from one thread at a time.
class Vcpu {
public:
    Vcpu() = default;
    /// Takes ownership of a vCPU fd with id `id` and its kvm_run mapping.
    Vcpu(UniqueFd fd, std::uint32_t id, Mapping run_page)
        : fd_(std::move(fd)), id_(id), shared_(std::make_shared<detail::VcpuShared>()) {
        shared_->run_page = std::move(run_page);
        run_ = reinterpret_cast<kvm_run*>(shared_->run_page.data());
        run_size_ = shared_->run_page.size();
    }

    /// KVM_RUN: runs the guest until it needs us, and says why.
    /// EINTR (a kick or any signal) is the `exit::Interrupted` value, not an error, and
    /// KVM_EXIT_MEMORY_FAULT, which the kernel reports with a failed KVM_RUN (EFAULT or
    /// EHWPOISON), is the `exit::MemoryFault` value.
    [[nodiscard, gnu::always_inline]] inline Result<Exit> run() {
        shared_->thread.store(::pthread_self(), std::memory_order_relaxed);
        // KVM_EXIT_MEMORY_FAULT comes with a failed KVM_RUN; the reason is meaningful only if
        // this run wrote it, so a previous memory fault's reason is cleared first. Only that
        // one: arm64 KVM completes a pending MMIO load or store on the next KVM_RUN only when
        // exit_reason still says KVM_EXIT_MMIO (clearing every reason left each guest access
        // uncompleted, re-executed forever).
        if (run_->exit_reason == uapi::exit_memory_fault) [[unlikely]]
            run_->exit_reason = KVM_EXIT_UNKNOWN;
        const int r = ::ioctl(fd_.get(), KVM_RUN, 0);
        if (r < 0) [[unlikely]]
            return run_failed(errno);
        Exit exit = decode_exit(*run_, run_size_);
        if (trace::enabled()) [[unlikely]]
            trace_run(exit);
        return exit;
    }

    /// A handle other threads (or signal handlers) use to interrupt run().
    VcpuKicker kicker() const { return VcpuKicker(shared_); }

    /// KVM_GET_ONE_REG, typed: the register's width is checked at compile time.
    ///
    /// Example [get_reg], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     std::uint64_t now = *cpu.get(kvmxx::arm64::reg::pc);
    template <class T>
    [[nodiscard]] Result<T> get(RegId<T> reg) const {
        T value{};
        auto r = get_one_reg(reg.id, {reinterpret_cast<std::uint8_t*>(&value), sizeof value});
        if (!r) return unexpected<Error>(std::move(r).error());
        return value;
    }
    /// KVM_SET_ONE_REG, typed.
    ///
    /// Example [set_reg], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto moved = cpu.set(kvmxx::arm64::reg::pc, 0x4000'1000);
    template <class T>
    [[nodiscard]] Result<> set(RegId<T> reg, std::type_identity_t<T> value) {  // the register's type decides, not the literal's
        return set_one_reg(reg.id, {reinterpret_cast<const std::uint8_t*>(&value), sizeof value});
    }

    /// KVM_GET_ONE_REG for an id known only at run time; `out` must be exactly its size.
    [[nodiscard]] Result<> get_one_reg(std::uint64_t id, std::span<std::uint8_t> out) const {
        if (out.size() != reg_size(id))
            return size_mismatch("KVM_GET_ONE_REG", id, out.size());
        kvm_one_reg r{id, reinterpret_cast<std::uint64_t>(out.data())};
        return sys::ioctl(fd_.get(), KVM_GET_ONE_REG, "KVM_GET_ONE_REG", &r, [&] { return describe_reg(id); })
            .transform([](int) {});
    }
    /// KVM_SET_ONE_REG for an id known only at run time; `in` must be exactly its size.
    [[nodiscard]] Result<> set_one_reg(std::uint64_t id, std::span<const std::uint8_t> in) {
        if (in.size() != reg_size(id))
            return size_mismatch("KVM_SET_ONE_REG", id, in.size());
        kvm_one_reg r{id, reinterpret_cast<std::uint64_t>(in.data())};
        return sys::ioctl(fd_.get(), KVM_SET_ONE_REG, "KVM_SET_ONE_REG", &r, [&] {
                   trace::Args a;
                   a.raw(describe_reg(id));
                   if (in.size() <= 8) a.hex("value", exit::load_le(in));
                   return a.take();
               })
            .transform([](int) {});
    }

    /// KVM_GET_REG_LIST: every ONE_REG id this vCPU has.
    [[nodiscard]] Result<std::vector<std::uint64_t>> reg_list() const {
        uapi::RegListHead probe{};
        auto first = ::ioctl(fd_.get(), uapi::get_reg_list, &probe);  // E2BIG, with n filled in
        if (first < 0 && errno != E2BIG) return fail_errno("KVM_GET_REG_LIST", describe_vcpu());
        const std::uint64_t n = probe.n;
        uapi::FlexArg<uapi::RegListHead, std::uint64_t> list(n);
        list.head().n = n;
        auto r = sys::ioctl(fd_.get(), uapi::get_reg_list, "KVM_GET_REG_LIST", list.arg(),
                            [&] { return trace::Args().dec("n", n).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        return detail::reg_list_ids(list);
    }

    /// KVM_GET_MP_STATE: KVM_MP_STATE_RUNNABLE, _STOPPED (arm64 powered off), ...
    [[nodiscard]] Result<std::uint32_t> mp_state() const {
        kvm_mp_state s{};
        return sys::ioctl(fd_.get(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE", &s, [&] { return describe_vcpu(); })
            .transform([&](int) { return s.mp_state; });
    }
    /// KVM_SET_MP_STATE.
    [[nodiscard]] Result<> set_mp_state(std::uint32_t state) {
        kvm_mp_state s{state};
        return sys::ioctl(fd_.get(), KVM_SET_MP_STATE, "KVM_SET_MP_STATE", &s,
                          [&] { return trace::Args().raw(describe_vcpu()).dec("mp_state", state).take(); })
            .transform([](int) {});
    }

    /// KVM_SET_DEVICE_ATTR on the vCPU (arm64 PMU and timer attributes).
    [[nodiscard]] Result<> set_attr(std::uint32_t group, std::uint64_t attr, const std::uint64_t* value = nullptr) {
        return detail::set_attr(fd_.get(), group, attr, reinterpret_cast<std::uint64_t>(value));
    }
    /// KVM_HAS_DEVICE_ATTR on the vCPU.
    bool has_attr(std::uint32_t group, std::uint64_t attr) const {
        return detail::has_attr(fd_.get(), group, attr);
    }

#if KVMXX_ARCH_ARM64
    /// KVM_ARM_VCPU_INIT with `init` (usually from Vm::preferred_target). For an
    /// SVE vCPU (feature KVM_ARM_VCPU_SVE), then `sve_lengths` if given
    /// (set_sve_vector_lengths) and KVM_ARM_VCPU_FINALIZE (finalize_sve).
    ///
    /// Example [sve_init], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto init = vm.preferred_target({.sve = true});
    ///     if (!init) return kvmxx::unexpected(init.error());
    ///     return cpu.init(*init, kvmxx::arm64::SveVectorLengths::of_bits({128, 256}).value());
    [[nodiscard]] Result<> init(const kvm_vcpu_init& init, const std::optional<arm64::SveVectorLengths>& sve_lengths = {}) {
        auto r = sys::ioctl(fd_.get(), KVM_ARM_VCPU_INIT, "KVM_ARM_VCPU_INIT", &init, [&] {
            return trace::Args().raw(describe_vcpu()).dec("target", init.target).hex("features", init.features[0]).take();
        });
        if (!r) return unexpected<Error>(std::move(r).error());
        if (!(init.features[0] & (1u << KVM_ARM_VCPU_SVE))) {
            if (sve_lengths) return fail("KVM_ARM_VCPU_INIT", EINVAL, "SVE vector lengths given for a vCPU without the SVE feature");
            return {};
        }
        if (sve_lengths)
            if (auto v = set_sve_vector_lengths(*sve_lengths); !v) return v;
        return finalize_sve();
    }

    /// KVM_SET_DEVICE_ATTR(KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ): the
    /// interrupt of the guest PMU's counter overflow, as a GIC INTID — a PPI (16..31,
    /// the same one on every vCPU; 23 is PPI 7, QEMU's and kvmtool's choice) or an SPI.
    /// For a vCPU made with the PMU feature (VcpuFeatures::pmu_v3; else ENODEV), once
    /// the VGIC exists (EINVAL before: no in-kernel irqchip), before init_pmu (EBUSY after).
    ///
    /// Example [pmu_setup], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     if (auto r = cpu.set_pmu_irq(23); !r) return r;  // PPI 7, after Vgic::setup
    ///     return cpu.init_pmu();
    [[nodiscard]] Result<> set_pmu_irq(std::uint32_t intid) {
        const int irq = static_cast<int>(intid);  // the kernel reads an int
        return detail::set_attr(fd_.get(), KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ,
                                reinterpret_cast<std::uint64_t>(&irq));
    }
    /// KVM_SET_DEVICE_ATTR(KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT): the
    /// guest PMU is made, its interrupt owned by it. After the VGIC's init (ENODEV
    /// before) and set_pmu_irq (ENXIO without); a vCPU with the PMU feature does
    /// not run until it is done.
    [[nodiscard]] Result<> init_pmu() {
        return detail::set_attr(fd_.get(), KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, 0);
    }

    /// KVM_GET_ONE_REG(KVM_REG_ARM64_SVE_VLS): the vector lengths of an SVE vCPU —
    /// the host's until set_sve_vector_lengths, what it was set to after.
    [[nodiscard]] Result<arm64::SveVectorLengths> sve_vector_lengths() const {
        arm64::SveVectorLengths::Words w{};
        auto r = get_one_reg(arm64::sve::vls_id, {reinterpret_cast<std::uint8_t*>(w.data()), sizeof w});
        if (!r) return unexpected<Error>(std::move(r).error());
        return arm64::SveVectorLengths(w);
    }

    /// KVM_SET_ONE_REG(KVM_REG_ARM64_SVE_VLS), between KVM_ARM_VCPU_INIT and
    /// finalize_sve (EPERM after). KVM takes the host's lengths up to a maximum,
    /// none left out below it (arch/arm64/kvm/guest.c): an EINVAL says so, with
    /// the host's set.
    [[nodiscard]] Result<> set_sve_vector_lengths(const arm64::SveVectorLengths& lengths) {
        const auto& w = lengths.words();
        auto r = set_one_reg(arm64::sve::vls_id, {reinterpret_cast<const std::uint8_t*>(w.data()), sizeof w});
        if (r || r.error().errnum() != EINVAL) return r;
        auto host = sve_vector_lengths();
        return fail("KVM_SET_ONE_REG", EINVAL,
                    "SVE vector lengths " + lengths.to_string() + " bits: KVM takes the host's lengths (" +
                        (host ? host->to_string() : std::string("unknown")) + ") up to a maximum, none left out below it");
    }

    /// KVM_ARM_VCPU_FINALIZE(KVM_ARM_VCPU_SVE): fixes the vector lengths; the Z, P
    /// and FFR registers exist from here. Vcpu::init calls it for an SVE vCPU.
    [[nodiscard]] Result<> finalize_sve() {
        int what = KVM_ARM_VCPU_SVE;
        return sys::ioctl(fd_.get(), KVM_ARM_VCPU_FINALIZE, "KVM_ARM_VCPU_FINALIZE", &what,
                          [&] { return describe_vcpu() + " feature=sve"; })
            .transform([](int) {});
    }
#endif

#if KVMXX_ARCH_X86_64
    /// KVM_GET_REGS: general-purpose registers.
    [[nodiscard]] Result<kvm_regs> regs() const { return get_struct<kvm_regs>(KVM_GET_REGS, "KVM_GET_REGS"); }
    /// KVM_SET_REGS.
    [[nodiscard]] Result<> set_regs(const kvm_regs& r) { return set_struct(KVM_SET_REGS, "KVM_SET_REGS", r); }
    /// KVM_GET_SREGS: segment and control registers.
    [[nodiscard]] Result<kvm_sregs> sregs() const { return get_struct<kvm_sregs>(KVM_GET_SREGS, "KVM_GET_SREGS"); }
    /// KVM_SET_SREGS.
    [[nodiscard]] Result<> set_sregs(const kvm_sregs& s) { return set_struct(KVM_SET_SREGS, "KVM_SET_SREGS", s); }

    /// KVM_GET_MSRS for one MSR.
    [[nodiscard]] Result<std::uint64_t> msr(std::uint32_t index) const {
        OneMsr b{};
        b.head.nmsrs = 1;
        b.entry.index = index;
        auto r = sys::ioctl(fd_.get(), uapi::get_msrs, "KVM_GET_MSRS", &b,
                            [&] { return trace::Args().hex("msr", index).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        if (*r != 1) return fail("KVM_GET_MSRS", EINVAL, "msr=" + trace::hex(index) + " is not supported");
        return b.entry.data;
    }
    /// KVM_SET_MSRS for one MSR.
    [[nodiscard]] Result<> set_msr(std::uint32_t index, std::uint64_t value) {
        OneMsr b{};
        b.head.nmsrs = 1;
        b.entry.index = index;
        b.entry.data = value;
        auto r = sys::ioctl(fd_.get(), uapi::set_msrs, "KVM_SET_MSRS", &b,
                            [&] { return trace::Args().hex("msr", index).hex("value", value).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        if (*r != 1) return fail("KVM_SET_MSRS", EINVAL, "msr=" + trace::hex(index) + " was not accepted");
        return {};
    }

    /// KVM_SET_CPUID2 with a table from Kvm::supported_cpuid(), edited or not.
    ///
    /// Example [set_cpuid], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto again = kvm.supported_cpuid();
    ///     auto set = cpu.set_cpuid(*again);
    [[nodiscard]] Result<> set_cpuid(const CpuidTable& table) {
        return sys::ioctl(fd_.get(), uapi::set_cpuid2, "KVM_SET_CPUID2", table.arg(),
                          [&] { return trace::Args().dec("nent", table.size()).take(); })
            .transform([](int) {});
    }
#endif

#if KVMXX_ARCH_X86_64
    /// KVM_GET_MSRS for a batch, in one call. The kernel reads the entries in
    /// order and stops at the first MSR it refuses: the result is how many it
    /// read (batch.processed()); fewer than all is an EINVAL Error naming the
    /// refused index (batch.refused()), with the entries before it filled in.
    [[nodiscard]] Result<std::size_t> get_msrs(MsrBatch& batch) const {
        return msr_io(uapi::get_msrs, "KVM_GET_MSRS", batch, batch.arg());
    }
    /// KVM_SET_MSRS for a batch, in one call; reports like get_msrs.
    [[nodiscard]] Result<std::size_t> set_msrs(MsrBatch& batch) {
        return msr_io(uapi::set_msrs, "KVM_SET_MSRS", batch, static_cast<const void*>(batch.arg()));
    }

    /// KVM_GET_CPUID2: the CPUID table this vCPU was given with set_cpuid (none
    /// set: an empty table).
    ///
    /// Linux 6.1 copies the vCPU's leaves but never writes `nent` back (not even
    /// with E2BIG), so the count is found by reading twice, into entries filled
    /// with 0x00 and with 0xff bytes: the leaves the kernel wrote are the ones
    /// that agree. A kernel that does write `nent` back is believed.
    [[nodiscard]] Result<CpuidTable> cpuid() const {
        constexpr std::uint32_t room = 256;  // KVM_MAX_CPUID_ENTRIES
        CpuidTable zeros(room), ones(room);
        std::memset(static_cast<void*>(ones.entries().data()), 0xff, room * sizeof(kvm_cpuid_entry2));
        for (CpuidTable* t : {&zeros, &ones}) {
            auto r = sys::ioctl(fd_.get(), uapi::get_cpuid2, "KVM_GET_CPUID2", t->arg(),
                                [&] { return trace::Args().raw(describe_vcpu()).dec("nent", room).take(); });
            if (!r) return unexpected<Error>(std::move(r).error());
        }
        std::uint32_t n = 0;
        if (zeros.size() < room) {
            n = zeros.size();
        } else {
            while (n < room && std::memcmp(&zeros.entries()[n], &ones.entries()[n], sizeof(kvm_cpuid_entry2)) == 0) ++n;
        }
        CpuidTable table(n);
        std::memcpy(static_cast<void*>(table.entries().data()), zeros.entries().data(), n * sizeof(kvm_cpuid_entry2));
        return table;
    }

    /// KVM_GET_LAPIC: the in-kernel local APIC's registers (needs Vm::create_irqchip).
    [[nodiscard]] Result<kvm_lapic_state> lapic() const { return get_struct<kvm_lapic_state>(KVM_GET_LAPIC, "KVM_GET_LAPIC"); }
    /// KVM_SET_LAPIC (needs Vm::create_irqchip); kvmxx::lapic names the register offsets.
    [[nodiscard]] Result<> set_lapic(const kvm_lapic_state& s) { return set_struct(KVM_SET_LAPIC, "KVM_SET_LAPIC", s); }

    /// KVM_GET_FPU: x87, MXCSR and XMM0-15 in FXSAVE form.
    [[nodiscard]] Result<kvm_fpu> fpu() const { return get_struct<kvm_fpu>(KVM_GET_FPU, "KVM_GET_FPU"); }
    /// KVM_SET_FPU.
    [[nodiscard]] Result<> set_fpu(const kvm_fpu& f) { return set_struct(KVM_SET_FPU, "KVM_SET_FPU", f); }

    /// KVM_GET_XSAVE: the first 4 KiB of the XSAVE image (KVM_CAP_XSAVE).
    [[nodiscard]] Result<XsaveArea> xsave() const {
        XsaveArea a;
        auto r = sys::ioctl(fd_.get(), uapi::get_xsave, "KVM_GET_XSAVE", a.arg(), [&] { return describe_vcpu(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        return a;
    }
#ifdef KVM_CAP_XSAVE2
    /// KVM_GET_XSAVE2: the whole XSAVE image, `bytes` long: the value of
    /// KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) (Vm::check(Cap::Xsave2), at least 4096).
    [[nodiscard]] Result<XsaveArea> xsave2(std::size_t bytes) const {
        if (bytes < XsaveArea::legacy_size)
            return fail("KVM_GET_XSAVE2", EINVAL,
                        "bytes=" + std::to_string(bytes) + " is less than 4096: pass check(Cap::Xsave2)");
        XsaveArea a(bytes);
        auto r = sys::ioctl(fd_.get(), uapi::get_xsave2, "KVM_GET_XSAVE2", a.arg(),
                            [&] { return trace::Args().raw(describe_vcpu()).dec("bytes", a.size()).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        return a;
    }
#endif
    /// The XSAVE image size the kernel reads on KVM_SET_XSAVE for this vCPU: what
    /// KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) said when Vm::create_vcpu made it (4096
    /// without the capability). More than 4096 where the process has dynamic features
    /// such as AMX; request those (arch_prctl ARCH_REQ_XCOMP_GUEST_PERM) before
    /// creating the vCPUs.
    std::size_t xsave_size() const noexcept { return xsave_size_; }

    /// KVM_SET_XSAVE, with an image from xsave2(xsave_size()) (or xsave() where that is
    /// 4096). The kernel copies xsave_size() bytes from the image, so a smaller one is
    /// refused here rather than letting the kernel read past it.
    ///
    /// Example [xsave2], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     auto image = cpu.xsave2(cpu.xsave_size());
    ///     if (image) (void)cpu.set_xsave(*image);
    [[nodiscard]] Result<> set_xsave(const XsaveArea& a) {
        if (a.size() < xsave_size_)
            return fail("KVM_SET_XSAVE", EINVAL,
                        describe_vcpu() + ": the image is " + std::to_string(a.size()) + " bytes, the kernel reads " +
                            std::to_string(xsave_size_) + " (KVM_CAP_XSAVE2): take it with xsave2(xsave_size())");
        return sys::ioctl(fd_.get(), uapi::set_xsave, "KVM_SET_XSAVE", a.arg(),
                          [&] { return trace::Args().raw(describe_vcpu()).hex("xstate_bv", a.xstate_bv()).take(); })
            .transform([](int) {});
    }

    /// KVM_GET_XCRS: the extended control registers (XCR0) (KVM_CAP_XCRS).
    [[nodiscard]] Result<kvm_xcrs> xcrs() const { return get_struct<kvm_xcrs>(KVM_GET_XCRS, "KVM_GET_XCRS"); }
    /// KVM_SET_XCRS: XCR0 must be valid for the CPUID the vCPU was given.
    [[nodiscard]] Result<> set_xcrs(const kvm_xcrs& x) { return set_struct(KVM_SET_XCRS, "KVM_SET_XCRS", x); }

    /// KVM_GET_DEBUGREGS: DR0-3, DR6, DR7 (KVM_CAP_DEBUGREGS).
    [[nodiscard]] Result<kvm_debugregs> debugregs() const {
        return get_struct<kvm_debugregs>(KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
    }
    /// KVM_SET_DEBUGREGS (flags must be 0, and DR6/DR7's upper halves).
    [[nodiscard]] Result<> set_debugregs(const kvm_debugregs& d) { return set_struct(KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", d); }

    /// KVM_GET_VCPU_EVENTS: pending or injected exceptions, interrupts, NMIs, SMIs.
    [[nodiscard]] Result<kvm_vcpu_events> vcpu_events() const {
        return get_struct<kvm_vcpu_events>(KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");
    }
    /// KVM_SET_VCPU_EVENTS: `flags` (KVM_VCPUEVENT_VALID_*) say which optional parts count.
    [[nodiscard]] Result<> set_vcpu_events(const kvm_vcpu_events& e) {
        return set_struct(KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS", e);
    }

    /// KVM_NMI: queues an NMI (vector 2), taken by the guest at the next KVM_RUN.
    [[nodiscard]] Result<> nmi() {
        return sys::ioctl(fd_.get(), KVM_NMI, "KVM_NMI", 0UL, [&] { return describe_vcpu(); }).transform([](int) {});
    }
    /// KVM_INTERRUPT: queues external interrupt `vector` on a VM without an in-kernel
    /// irqchip (with one the kernel says ENXIO: raise its lines instead). The guest
    /// takes it once its IF is set.
    [[nodiscard]] Result<> interrupt(std::uint32_t vector) {
        kvm_interrupt i{vector};
        return sys::ioctl(fd_.get(), KVM_INTERRUPT, "KVM_INTERRUPT", &i,
                          [&] { return trace::Args().raw(describe_vcpu()).dec("irq", vector).take(); })
            .transform([](int) {});
    }

    /// KVM_GET_TSC_KHZ: the guest's TSC frequency in kHz (KVM_CAP_GET_TSC_KHZ).
    [[nodiscard]] Result<std::uint32_t> tsc_khz() const {
        return sys::ioctl(fd_.get(), KVM_GET_TSC_KHZ, "KVM_GET_TSC_KHZ", 0UL, [&] { return describe_vcpu(); })
            .transform([](int khz) { return static_cast<std::uint32_t>(khz); });
    }
    /// KVM_SET_TSC_KHZ: the guest's TSC frequency. Without TSC scaling
    /// (KVM_CAP_TSC_CONTROL) the kernel takes only rates near the host's.
    [[nodiscard]] Result<> set_tsc_khz(std::uint32_t khz) {
        return sys::ioctl(fd_.get(), KVM_SET_TSC_KHZ, "KVM_SET_TSC_KHZ", static_cast<unsigned long>(khz),
                          [&] { return trace::Args().raw(describe_vcpu()).dec("khz", khz).take(); })
            .transform([](int) {});
    }
#endif

    /// KVM_GET_STATS_FD on this vCPU: its statistics ("exits", "halt_exits", ...) by name.
    /// Fails with one line naming KVM_CAP_BINARY_STATS_FD (Linux 5.14) where it is absent.
    [[nodiscard]] Result<StatsFd> stats() const { return detail::get_stats_fd(fd_.get(), describe_vcpu()); }

    /// KVM_PRE_FAULT_MEMORY (Linux 6.11, KVM_CAP_PRE_FAULT_MEMORY): maps guest-physical
    /// [gpa, gpa+size) into the VM's stage-2 / TDP page tables now, as if this vCPU had
    /// touched each page, so the guest's first accesses take no fault. The kernel does a
    /// part per call and advances the range; this loops until all of it is done, retrying
    /// where the kernel made no progress and said so (EINTR: a signal was pending; EAGAIN:
    /// a race). Returns the bytes mapped (= size). An error names the part left.
    ///
    /// Example [pre_fault_memory], built by tests/unit/doc_examples_test.cpp:
    ///
    ///     if (auto done = cpu.pre_fault_memory(0x4000'0000, 2 << 20); !done) return kvmxx::unexpected(done.error());
    ///
    /// The vCPU has no capability query of its own, so the ioctl is the probe (it changes
    /// nothing when it fails). On x86 without TDP (kvm_pvm's shadow paging) the kernel
    /// answers EOPNOTSUPP and the error names KVM_CAP_PRE_FAULT_MEMORY; a kernel without the
    /// ioctl (x86 before 6.11, arm64 up to 7.3 at least) answers EINVAL, as for a bad range,
    /// and the hint can only say what a good range is: check Vm::check(Cap::PreFaultMemory).
    [[nodiscard]] Result<std::uint64_t> pre_fault_memory(std::uint64_t gpa, std::uint64_t size) {
        uapi::PreFaultMemory range{};
        range.gpa = gpa;
        range.size = size;
        for (;;) {
            const std::uint64_t before = range.size;
            const int r = ::ioctl(fd_.get(), uapi::pre_fault_memory, &range);
            const int err = errno;
            auto words = [&] {
                return trace::Args().raw(describe_vcpu()).hex("gpa", gpa).hex("size", size).hex("done", size - range.size).take();
            };
            if (trace::enabled()) [[unlikely]]
                sys::trace_ioctl("KVM_PRE_FAULT_MEMORY", words(), r, err);
            if (r >= 0) {
                if (range.size == 0) return size;
                if (range.size >= before)  // success must mean progress; do not spin
                    return fail_with_hint("KVM_PRE_FAULT_MEMORY", EIO, words(), "the kernel reported success without progress");
                continue;
            }
            if (err == EINTR || err == EAGAIN) continue;
            if (err == ENOTTY || err == EOPNOTSUPP)
                return fail_with_hint("KVM_PRE_FAULT_MEMORY", err, words(),
                                      "this VM lacks KVM_CAP_PRE_FAULT_MEMORY (added in Linux 6.11 for x86 with "
                                      "TDP (EPT/NPT), later for arm64)");
            if (err == ENOENT)
                return fail_with_hint("KVM_PRE_FAULT_MEMORY", err, words(),
                                      "gpa " + trace::hex(range.gpa) + " is in no memory slot");
            if (err == EINVAL)
                return fail_with_hint("KVM_PRE_FAULT_MEMORY", err, words(),
                                      "gpa and size must be page aligned, size non-zero, and gpa+size must not overflow");
            return fail("KVM_PRE_FAULT_MEMORY", err, words());
        }
    }

    /// Takes every entry the kernel has pushed to this vCPU's dirty ring since the last
    /// harvest, in ring order, and marks each harvested (api.rst "KVM_CAP_DIRTY_LOG_RING"):
    /// an entry's flags are loaded with acquire ordering (so its slot and offset are read
    /// after the kernel published them) and set to RESET with release ordering. The pages
    /// are write-protected again, and the entries reused, only after Vm::reset_dirty_rings.
    /// Needs Vm::enable_dirty_ring before this vCPU was created.
    [[nodiscard]] Result<std::vector<DirtyGfn>> harvest_dirty_ring() {
        if (!ring_)
            return fail_with_hint("dirty ring harvest", ENXIO, describe_vcpu(),
                                  "this vCPU has no dirty ring: call Vm::enable_dirty_ring before creating it");
        auto* entries = reinterpret_cast<kvm_dirty_gfn*>(ring_.data());
        const std::size_t count = ring_.size() / sizeof(kvm_dirty_gfn);
        std::vector<DirtyGfn> out;
        for (std::size_t n = 0; n < count; ++n) {
            kvm_dirty_gfn& e = entries[ring_next_ % count];
            std::atomic_ref<__u32> flags(e.flags);
            if ((flags.load(std::memory_order_acquire) & KVM_DIRTY_GFN_F_DIRTY) == 0) break;
            out.push_back(DirtyGfn{e.slot, e.offset});
            flags.store(KVM_DIRTY_GFN_F_RESET, std::memory_order_release);
            ++ring_next_;
        }
        if (trace::enabled()) [[unlikely]]
            trace::emit("dirty ring harvest " + describe_vcpu() + " -> " + std::to_string(out.size()) + " entries");
        return out;
    }

    /// The shared kvm_run page, for exits kvmxx does not decode.
    ///
    /// Safety: the reference is valid while this Vcpu lives (a moved-from Vcpu has
    /// no page). KVM_RUN rewrites the page, so read what an exit left before the
    /// next run(); with the page, the guest's MMIO data and the offsets in it are
    /// the guest's: check them before using them (decode_exit does).
    kvm_run& raw_run() noexcept { return *run_; }
    std::uint32_t id() const noexcept { return id_; }    ///< the vCPU id given to KVM_CREATE_VCPU
    int fd() const noexcept { return fd_.get(); }        ///< the raw vCPU fd, still owned here
    bool valid() const noexcept { return fd_.valid(); }  ///< holds a vCPU fd (not default/moved-from)

private:
    // run()'s rare paths, kept out of line (and out of its register allocation): inlined,
    // their string building made every run() save and restore six registers
    // (benchmarks/instr_count: 61 instructions of run() per exit before, see docs/performance.md).
    [[gnu::cold, gnu::noinline]] void trace_run(const Exit& exit) const {
        sys::trace_ioctl("KVM_RUN", describe_vcpu() + " " + describe(exit), 0, 0);
    }
    [[gnu::cold, gnu::noinline, nodiscard]] Result<Exit> run_failed(int err) {
        if (trace::enabled()) [[unlikely]]
            sys::trace_ioctl("KVM_RUN", describe_vcpu(), -1, err);
        if (err == EINTR) {
            std::atomic_ref<std::uint8_t>(run_->immediate_exit).store(0, std::memory_order_relaxed);
            return Exit{exit::Interrupted{}};
        }
        // api.rst "KVM_EXIT_MEMORY_FAULT": the one exit that accompanies -1, with EFAULT or
        // EHWPOISON; the reason is valid only with those errnos.
        if ((err == EFAULT || err == EHWPOISON) && run_->exit_reason == uapi::exit_memory_fault) {
            Exit exit = decode_exit(*run_, run_size_);
            if (trace::enabled()) [[unlikely]]
                sys::trace_ioctl("KVM_RUN", describe_vcpu() + " " + describe(exit), -1, err);
            return exit;
        }
        return fail("KVM_RUN", err, describe_vcpu());
    }
    std::string describe_vcpu() const { return trace::Args().dec("vcpu", id_).take(); }
    std::string describe_reg(std::uint64_t id) const {
        trace::Args a;
        a.dec("vcpu", id_).hex("reg", id);
        if (auto n = arm64::reg_name(id); !n.empty()) a.str("name", n);
        return a.take();
    }
    static unexpected<Error> size_mismatch(const char* op, std::uint64_t id, std::size_t size) {
        return fail(op, EINVAL,
                    "reg=" + trace::hex(id) + " is " + std::to_string(reg_size(id)) + " bytes, buffer is " +
                        std::to_string(size));
    }

    friend class Vm;  // sets ring_ (and on x86 xsave_size_) at creation
    Mapping ring_;                  // the dirty ring, when the VM enabled one
    std::uint64_t ring_next_ = 0;   // the next entry to harvest (ring index mod its size)

#if KVMXX_ARCH_X86_64
    std::size_t xsave_size_ = XsaveArea::legacy_size;

    /// A kvm_msrs argument with one entry (see uapi.hpp for why not `kvm_msrs`).
    struct OneMsr {
        uapi::MsrsHead head;
        kvm_msr_entry entry;
    };
    static_assert(offsetof(OneMsr, entry) == sizeof(uapi::MsrsHead));
    template <class Arg>
    [[nodiscard]] Result<std::size_t> msr_io(unsigned long req, const char* name, MsrBatch& batch, Arg arg) const {
        batch.set_processed(0);
        auto r = sys::ioctl(fd_.get(), req, name, arg,
                            [&] { return trace::Args().raw(describe_vcpu()).dec("nmsrs", batch.size()).take(); });
        if (!r) return unexpected<Error>(std::move(r).error());
        batch.set_processed(static_cast<std::size_t>(*r));
        if (auto refused = batch.refused())
            return fail(name, EINVAL,
                        trace::Args().raw(describe_vcpu()).dec("processed", batch.processed()).dec("of", batch.size()).take() +
                            ", refused msr=" + trace::hex(*refused));
        return batch.processed();
    }
    template <class S>
    [[nodiscard]] Result<S> get_struct(unsigned long req, const char* name) const {
        S s{};
        return sys::ioctl(fd_.get(), req, name, &s, [&] { return describe_vcpu(); }).transform([&](int) { return s; });
    }
    template <class S>
    [[nodiscard]] Result<> set_struct(unsigned long req, const char* name, const S& s) {
        return sys::ioctl(fd_.get(), req, name, &s, [&] { return describe_vcpu(); }).transform([](int) {});
    }
#endif

    UniqueFd fd_;
    std::uint32_t id_ = 0;
    std::shared_ptr<detail::VcpuShared> shared_;
    kvm_run* run_ = nullptr;
    std::size_t run_size_ = 0;
};

KVMXX_END_NAMESPACE
