// vcpu.hpp — the vCPUs at run time: one thread each, running the guest and
// handing its MMIO exits to the bus, until something decides how the run ends:
//   the guest powers off            → exit 0;
//   the guest resets                → exit 3 (a panic with panic=N resets), or 0 with --allow-reset;
//   the guest reports a crash, KVM fails, or an exit the VMM cannot handle → exit 1;
//   SIGINT or SIGTERM to the VMM     → exit 128 + N.
// The first to decide wins; every other vCPU is kicked out of KVM_RUN and stops.
//
// A guest that has printed nothing after 10 s gets one hint line on stderr.
//
//     int status = vmm::run_vcpus(cpus, bus, {.allow_reset = opt.allow_reset, .printed = [&] { return uart.printed(); }});
#pragma once

#include "errors.hpp"
#include "options.hpp"

#include <kvmxx/kvmxx.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace vmm {

/// The guest CPU's optional features: SVE and pointer authentication where the
/// host's KVM has them (KVM_CAP_ARM_SVE, KVM_CAP_ARM_PTRAUTH_*), unless refused
/// (--no-sve, --no-ptrauth); a PMU with --pmu (KVM_CAP_ARM_PMU_V3). Asking for
/// one the host lacks is bad input. The
/// guest learns of them from its ID registers, as on hardware.
inline kvmxx::Result<kvmxx::arm64::VcpuFeatures> cpu_features(const kvmxx::Kvm& kvm, const Options& o) {
    kvmxx::arm64::VcpuFeatures f;
    const bool host_sve = kvm.has(kvmxx::Cap::ArmSve);
    const bool host_ptrauth = kvm.has(kvmxx::Cap::ArmPtrauthAddress) && kvm.has(kvmxx::Cap::ArmPtrauthGeneric);
    const bool want_sve = o.sve.value_or(host_sve || !o.sve_lengths.empty());
    if (want_sve && !host_sve) return bad_input("--sve: this host's KVM has no SVE (KVM_CAP_ARM_SVE); drop the option");
    if (o.ptrauth.value_or(false) && !host_ptrauth)
        return bad_input("--ptrauth: this host's KVM has no pointer authentication (KVM_CAP_ARM_PTRAUTH_*); drop the option");
    if (o.pmu && !kvm.has(kvmxx::Cap::ArmPmuV3))
        return bad_input("--pmu: this host's KVM offers no PMU to guests (KVM_CAP_ARM_PMU_V3); drop the option");
    f.sve = want_sve;
    f.pmu_v3 = o.pmu;
    f.ptrauth = o.ptrauth.value_or(host_ptrauth);
    if (!o.sve_lengths.empty()) {
        auto l = kvmxx::arm64::SveVectorLengths::of_bits(o.sve_lengths);
        if (!l) return context("--sve-lengths", l.error());
        f.sve_lengths = *l;
    }
    note(std::string("vCPU features: SVE ") + (f.sve ? "on" : "off") + ", pointer authentication " + (f.ptrauth ? "on" : "off") +
         ", PMU " + (f.pmu_v3 ? "on" : "off"));
    return f;
}

/// vCPUs 0..n-1 with `features`; the secondaries powered off until the guest's PSCI CPU_ON.
inline kvmxx::Result<std::vector<kvmxx::Vcpu>> create_vcpus(kvmxx::Vm& vm, unsigned n, kvmxx::arm64::VcpuFeatures features) {
    std::vector<kvmxx::Vcpu> cpus;
    for (unsigned i = 0; i < n; ++i) {
        features.power_off = i != 0;
        auto cpu = vm.create_vcpu(i, features);
        if (!cpu) return context("creating a vCPU", cpu.error());
        cpus.push_back(std::move(*cpu));
    }
    return cpus;
}

/// How the run ends: the first vCPU (or signal) to decide sets it; all stop.
struct Stop {
    std::atomic<bool> requested{false};
    std::atomic<int> status{0};
    std::vector<kvmxx::VcpuKicker> kickers;

    void request(int s) {
        bool expected = false;
        if (requested.compare_exchange_strong(expected, true)) {
            status = s;
            for (auto& k : kickers) k.kick();
        }
    }
};

/// The VMM's exit status for a guest power event: a power-off is a success, a
/// reset (a reboot, or a panic with panic=N) only when --allow-reset asked for it,
/// anything else (a crash report, an event this VMM does not know) never.
inline int guest_stopped(unsigned cpu, const kvmxx::exit::SystemEvent& e, bool allow_reset) {
    const std::string who = "vCPU " + std::to_string(cpu) + ": ";
    if (e.is_shutdown()) {
        note(who + "guest power off");
        return exit_powered_off;
    }
    if (e.is_reset() && allow_reset) {
        note(who + "guest reset (--allow-reset: exit 0)");
        return exit_powered_off;
    }
    if (e.is_reset()) {
        std::fprintf(stderr, "kvmxx-vmm: %sthe guest reset (exit %d; a guest panic with panic=N resets; "
                     "--allow-reset exits 0)\n", who.c_str(), exit_reset);
        return exit_reset;
    }
    std::fprintf(stderr, "kvmxx-vmm: %sguest stopped: %s\n", who.c_str(), kvmxx::describe(kvmxx::Exit{e}).c_str());
    return exit_failure;
}

/// One vCPU's life: run, route MMIO to the bus, stop on a guest power event.
inline void vcpu_loop(kvmxx::Vcpu& cpu, kvmxx::MmioBus& bus, Stop& stop, bool allow_reset) {
    while (!stop.requested.load()) {
        auto exit = cpu.run();
        if (!exit) {
            std::fprintf(stderr, "kvmxx-vmm: vCPU %u: %s\n", cpu.id(), exit.error().message().c_str());
            stop.request(exit_failure);
            return;
        }
        if (bus.handle(*exit) || std::holds_alternative<kvmxx::exit::Interrupted>(*exit)) continue;
        if (auto* e = std::get_if<kvmxx::exit::SystemEvent>(&*exit)) {
            stop.request(guest_stopped(cpu.id(), *e, allow_reset));
            return;
        }
        std::fprintf(stderr, "kvmxx-vmm: vCPU %u: cannot handle %s\n", cpu.id(), kvmxx::describe(*exit).c_str());
        stop.request(exit_failure);
        return;
    }
}

/// How a run is watched.
struct RunPolicy {
    bool allow_reset = false;           ///< a guest reset is exit 0, not exit_reset
    std::function<bool()> printed{};    ///< whether the guest's console has said anything
    std::string quiet_hint = "the guest has printed nothing in 10 s; add earlycon to --cmdline to see its earliest output";
    std::chrono::seconds quiet_after{10};
    std::function<bool()> quit_requested{};  ///< the console's quit sequence (Ctrl-A x)
};

/// Runs every vCPU on its own thread until the run ends (see the top); returns
/// the exit status. SIGINT and SIGTERM are taken by the calling thread only.
inline int run_vcpus(std::span<kvmxx::Vcpu> cpus, kvmxx::MmioBus& bus, const RunPolicy& policy) {
    const bool allow_reset = policy.allow_reset;
    const auto started = std::chrono::steady_clock::now();
    bool hinted = !policy.printed;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the threads: they inherit the mask
    Stop stop;
    for (auto& c : cpus) stop.kickers.push_back(c.kicker());
    std::vector<std::thread> threads;
    for (auto& c : cpus) threads.emplace_back(vcpu_loop, std::ref(c), std::ref(bus), std::ref(stop), allow_reset);
    note(std::to_string(cpus.size()) + " vCPU thread(s) running");
    while (!stop.requested.load()) {
        timespec tick{0, 100'000'000};
        if (int sig = sigtimedwait(&signals, nullptr, &tick); sig > 0) {
            std::fprintf(stderr, "kvmxx-vmm: %s: stopping the guest\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
            stop.request(128 + sig);
        }
        if (policy.quit_requested && policy.quit_requested()) {
            std::fputs("kvmxx-vmm: Ctrl-A x: stopping the guest\r\n", stderr);
            stop.request(exit_powered_off);
        }
        if (!hinted && std::chrono::steady_clock::now() - started >= policy.quiet_after) {
            hinted = true;  // once: a guest that is only slow is not told twice
            if (!policy.printed()) std::fprintf(stderr, "kvmxx-vmm: hint: %s\n", policy.quiet_hint.c_str());
        }
    }
    for (auto& t : threads) t.join();
    std::fflush(stdout);
    return stop.status.load();
}

}  // namespace vmm
