// kvmxx/error.hpp — `Error` and `Result<T>`: how every kvmxx call reports failure.
//
// An Error names the operation that failed ("KVM_CREATE_VCPU", "open"), keeps the
// errno, carries the arguments in words ("vcpu_id=0") and, where one helps, a hint
// that says how to fix it. It converts to std::error_code for code that wants one.
//
// Example [error], built by tests/unit/doc_examples_test.cpp:
//
//     auto kvm = kvmxx::Kvm::open("/nonexistent/kvm");
//     if (!kvm) std::fprintf(stderr, "%s\n", kvm.error().message().c_str());
//     // open: No such file or directory (ENOENT) [/nonexistent/kvm]
#pragma once

#include "config.hpp"
#include "expected.hpp"

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

/// Everything kvmxx declares (inside an inline namespace that names the expected
/// mode, so mixing modes fails at link time).
KVMXX_BEGIN_NAMESPACE

/// The symbolic name of an errno value ("EEXIST"), or "E?" for one we do not list.
inline const char* errno_name(int e) noexcept {
    switch (e) {
        case 0: return "OK";
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case ESRCH: return "ESRCH";
        case EINTR: return "EINTR";
        case EIO: return "EIO";
        case ENXIO: return "ENXIO";
        case E2BIG: return "E2BIG";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case ENODEV: return "ENODEV";
        case ENOTDIR: return "ENOTDIR";
        case EISDIR: return "EISDIR";
        case EINVAL: return "EINVAL";
        case ENFILE: return "ENFILE";
        case EMFILE: return "EMFILE";
        case ENOTTY: return "ENOTTY";
        case EFBIG: return "EFBIG";
        case ENOSPC: return "ENOSPC";
        case ERANGE: return "ERANGE";
        case ENOSYS: return "ENOSYS";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EOVERFLOW: return "EOVERFLOW";
        case ENOEXEC: return "ENOEXEC";
        case EHWPOISON: return "EHWPOISON";
        default: return "E?";
    }
}

/// What went wrong, where, with what, and (if we know) how to fix it.
class Error {
public:
    Error() = default;

    /// `operation` must outlive the Error (kvmxx passes string literals).
    Error(const char* operation, int errnum, std::string detail = {}, std::string hint = {})
        : operation_(operation), errnum_(errnum), detail_(std::move(detail)), hint_(std::move(hint)) {}

    /// The ioctl or syscall that failed, e.g. "KVM_SET_USER_MEMORY_REGION".
    const char* operation() const noexcept { return operation_; }
    /// The errno it reported (kvmxx's own argument checks use EINVAL, ERANGE, ...).
    int errnum() const noexcept { return errnum_; }
    /// The arguments in words, e.g. "slot=1 gpa=0x40000000 size=0x10000".
    const std::string& detail() const noexcept { return detail_; }
    /// How to fix it, or empty.
    const std::string& hint() const noexcept { return hint_; }

    /// errnum() as a std::error_code in std::system_category(), for code that
    /// handles errors the standard way.
    std::error_code code() const noexcept { return {errnum_, std::system_category()}; }
    /// The same, implicitly: an Error goes wherever a std::error_code does.
    operator std::error_code() const noexcept { return code(); }

    /// One line: "OP: strerror (ENAME) [detail]; hint: ...".
    std::string message() const {
        std::string m = operation_;
        m += ": ";
        m += std::system_category().message(errnum_);
        m += " (";
        m += errno_name(errnum_);
        m += ")";
        if (!detail_.empty()) m += " [" + detail_ + "]";
        if (!hint_.empty()) m += "; hint: " + hint_;
        return m;
    }

    /// Equal operation, errno and detail (the hint is advice, not identity).
    friend bool operator==(const Error& a, const Error& b) {
        return std::string_view(a.operation_) == b.operation_ && a.errnum_ == b.errnum_ &&
               a.detail_ == b.detail_;
    }

private:
    const char* operation_ = "";
    int errnum_ = 0;
    std::string detail_;
    std::string hint_;
};

/// A value or an Error. `Result<>` is success-or-error with no value.
template <class T = void>
using Result = expected<T, Error>;

namespace detail {

/// Hints for the failures people hit first. Kept in one table so that the
/// wording is consistent and easy to review.
inline std::string default_hint(std::string_view op, int e, std::string_view detail) {
    const bool dev_kvm = detail.find("/dev/kvm") != std::string_view::npos;
    if (op == "open" && dev_kvm) {
        if (e == ENOENT)
            return "KVM is not available here: load kvm (kvm_intel/kvm_amd, or CONFIG_KVM on arm64), "
                   "enable virtualization in firmware or nested virtualization in the hypervisor, "
                   "or run inside the testbed (tests/testbed/run)";
        if (e == EACCES || e == EPERM)
            return "no permission on /dev/kvm: add your user to the kvm group "
                   "(usermod -aG kvm $USER) and log in again; where the node is root-only "
                   "(crw------- root root, no kvm group), run as root or give it a group: "
                   "groupadd kvm; chgrp kvm /dev/kvm; chmod 660 /dev/kvm (or a udev rule)";
    }
    if (op == "KVM_GET_API_VERSION" && e == ENOTTY)
        return "this file is not a KVM device; open /dev/kvm";
    if (op == "KVM_CREATE_VCPU" && e == EEXIST) return "each vCPU id can be created once per VM";
    if (op == "KVM_CREATE_VCPU" && e == EBUSY)
        return "create every vCPU before the VGIC is initialized";
    if ((op == "KVM_SET_ONE_REG" || op == "KVM_GET_ONE_REG" || op == "KVM_RUN") && e == ENOEXEC)
        return "the arm64 vCPU is not initialised: create it with create_vcpu(id) or "
               "create_vcpu(id, features), or call Vcpu::init first";
    if (op == "KVM_CREATE_VCPU" && e == EINVAL)
        return "the vCPU id is at or above KVM_CAP_MAX_VCPU_ID";
    if (op == "KVM_SET_USER_MEMORY_REGION" && e == EEXIST)
        return "the range overlaps an existing memory slot: remove that slot first or choose another GPA";
    if (op == "KVM_SET_USER_MEMORY_REGION" && e == EINVAL)
        return "gpa, size and host address must be page aligned and the slot below KVM_CAP_NR_MEMSLOTS";
    if (op == "KVM_IRQFD" && e == EINVAL) return "the GSI is out of range or the fd is not an eventfd";
    if (op == "KVM_IRQFD" && e == EBUSY) return "this eventfd is already routed to a GSI of this VM";
    if (op == "KVM_IOEVENTFD" && e == EEXIST)
        return "an ioeventfd with the same address, length and datamatch already exists";
    if (op == "KVM_CREATE_DEVICE" && e == ENODEV)
        return "this kernel or architecture does not provide that device type";
    if (e == EBUSY) return "the resource is in use by another VM, process or driver";
    return {};
}

}  // namespace detail

/// Builds the error side of a Result, with the default hint for (op, errno).
inline unexpected<Error> fail(const char* op, int errnum, std::string detail = {}) {
    std::string hint = detail::default_hint(op, errnum, detail);
    return unexpected<Error>(Error(op, errnum, std::move(detail), std::move(hint)));
}

/// The same, with an explicit hint.
inline unexpected<Error> fail_with_hint(const char* op, int errnum, std::string detail, std::string hint) {
    return unexpected<Error>(Error(op, errnum, std::move(detail), std::move(hint)));
}

/// The same, taking errno from the failed call that just returned.
inline unexpected<Error> fail_errno(const char* op, std::string detail = {}) {
    return fail(op, errno, std::move(detail));
}

KVMXX_END_NAMESPACE
