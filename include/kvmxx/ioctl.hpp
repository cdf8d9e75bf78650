// kvmxx/ioctl.hpp — the single path by which kvmxx issues an ioctl.
//
// Every wrapper calls `sys::ioctl(fd, REQUEST, "REQUEST", arg, describe)`.
// `describe` is a callable returning the arguments in words; it runs only when
// the call fails (the text becomes Error::detail) or the trace is on (the text
// becomes the trace line), so a successful untraced call pays nothing for it.
//
// Example [sys_ioctl], built by tests/unit/doc_examples_test.cpp:
//
//     auto r = kvmxx::sys::ioctl(vm_fd, KVM_CREATE_VCPU, "KVM_CREATE_VCPU", 0UL,
//                                [] { return std::string("vcpu_id=0"); });
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "trace.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <string>
#include <system_error>

KVMXX_BEGIN_NAMESPACE

/// The one path every wrapper's ioctl takes: error reporting and the trace.
namespace sys {

/// Prints "NAME args -> result" (or "-> ENAME (text)") to the trace sink.
inline void trace_ioctl(const char* name, const std::string& args, long result, int err) {
    std::string line = name;
    if (!args.empty()) line += ' ' + args;
    if (result < 0) {
        line += " -> ";
        line += errno_name(err);
        line += " (" + std::system_category().message(err) + ")";
    } else {
        line += " -> " + std::to_string(result);
    }
    trace::emit(line);
}

/// The `describe` of a call with nothing worth saying about its arguments.
inline std::string no_args() { return {}; }

/// ioctl(2) with kvmxx's error reporting and trace. Returns the ioctl's
/// non-negative result (an fd for the CREATE ioctls).
template <class Arg, class Describe>
[[nodiscard]] Result<int> ioctl(int fd, unsigned long request, const char* name, Arg arg, Describe&& describe) {
    const int r = ::ioctl(fd, request, arg);
    const int err = errno;
    if (trace::enabled()) [[unlikely]]
        trace_ioctl(name, describe(), r, err);
    if (r < 0) [[unlikely]]
        return fail(name, err, describe());
    return r;
}

/// The same, for a call whose arguments need no words (describe = no_args).
template <class Arg>
[[nodiscard]] Result<int> ioctl(int fd, unsigned long request, const char* name, Arg arg) {
    return ioctl(fd, request, name, arg, no_args);
}

}  // namespace sys

KVMXX_END_NAMESPACE
