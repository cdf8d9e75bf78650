// errors.hpp — the VMM's one error idiom, and how it ends.
//
// Every step that can fail returns a kvmxx::Result, as the library does; main()
// turns the first error into one line on stderr and an exit status (report).
// The library's errors print as they are ("KVM_CREATE_VM: ..."); the VMM's own
// carry one of two operations below and say everything in their detail:
//
//     return vmm::bad_input("--cpus 0: give a number from 1 to 8");   // exit 2
//     return vmm::context("opening /dev/kvm", kvm.error());           // "opening /dev/kvm: open: ..."
#pragma once

#include <kvmxx/kvmxx.hpp>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

namespace vmm {

/// Exit statuses. A reset is not a success by default: a guest kernel that
/// panics with panic=N reboots, and a test that took "exited" for "worked" would
/// count a panic as a pass.
inline constexpr int exit_powered_off = 0;
inline constexpr int exit_failure = 1;    ///< a VMM, KVM or VFIO error, or a guest crash
inline constexpr int exit_bad_input = 2;  ///< the command line or the images
inline constexpr int exit_reset = 3;

/// The operations of the VMM's own errors (compared by address).
inline constexpr char bad_input_op[] = "bad input";
inline constexpr char vmm_op[] = "kvmxx-vmm";

/// An error in what the user gave (options, files): exit 2, `line` as it is.
inline kvmxx::unexpected<kvmxx::Error> bad_input(std::string line) {
    return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(bad_input_op, EINVAL, std::move(line)));
}

/// The one line that says what `e` is.
inline std::string text(const kvmxx::Error& e) {
    return e.operation() == bad_input_op || e.operation() == vmm_op ? e.detail() : e.message();
}

/// `e`, as it happened while `doing`: "doing: <e>"; bad input stays bad input.
inline kvmxx::unexpected<kvmxx::Error> context(std::string_view doing, const kvmxx::Error& e) {
    const char* op = e.operation() == bad_input_op ? bad_input_op : vmm_op;
    return kvmxx::unexpected<kvmxx::Error>(kvmxx::Error(op, e.errnum(), std::string(doing) + ": " + text(e)));
}

/// Prints `e` as the VMM's last word and returns the exit status it means.
inline int report(const kvmxx::Error& e) {
    std::fprintf(stderr, "kvmxx-vmm: %s\n", text(e).c_str());
    return e.operation() == bad_input_op ? exit_bad_input : exit_failure;
}
inline int report(std::string_view doing, const kvmxx::Error& e) { return report(context(doing, e).error()); }

/// A warning: one line on stderr, always (the run goes on).
inline void warn(const std::string& line) { std::fprintf(stderr, "kvmxx-vmm: warning: %s\n", line.c_str()); }

/// A --trace line of the VMM's own ("vmm: ..."), next to the library's ioctls.
inline void note(const std::string& line) {
    if (kvmxx::trace::enabled()) kvmxx::trace::emit("vmm: " + line);
}

}  // namespace vmm
