// kvmxx/unique_fd.hpp — `UniqueFd`, the move-only owner of one file descriptor.
//
// Every kvmxx object that owns a kernel object (VM, vCPU, device, eventfd,
// VFIO container/group/device) holds exactly one UniqueFd. Moving transfers
// ownership and leaves the source in the explicit moved-from state
// (`valid() == false`, `get() == -1`), whose destructor does nothing.
//
// Example [unique_fd], built by tests/unit/doc_examples_test.cpp:
//
//     kvmxx::UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
//     int raw = fd.release();   // the caller now closes raw
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <unistd.h>

#include <utility>

KVMXX_BEGIN_NAMESPACE

/// The move-only owner of one file descriptor, closed on destruction; the
/// one member of every kvmxx object that owns a kernel object.
class UniqueFd {
public:
    /// The empty state: owns nothing.
    constexpr UniqueFd() noexcept = default;
    /// Takes ownership of `fd` (which may be -1 for "nothing").
    ///
    /// Safety: no one else may close `fd`: this closes it on destruction, and a
    /// descriptor closed twice may by then name another file of the process.
    constexpr explicit UniqueFd(int fd) noexcept : fd_(fd) {}

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    /// Takes over `other`'s descriptor; `other` is left empty.
    constexpr UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    /// Closes the current descriptor, then takes over `other`'s.
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }

    ~UniqueFd() { reset(); }

    /// The descriptor, or -1 when empty.
    constexpr int get() const noexcept { return fd_; }
    constexpr bool valid() const noexcept { return fd_ >= 0; }             ///< owns a descriptor
    constexpr explicit operator bool() const noexcept { return valid(); }  ///< valid()

    /// Gives up ownership without closing; the object becomes empty.
    constexpr int release() noexcept { return std::exchange(fd_, -1); }

    /// Closes the current descriptor (if any) and takes `fd`.
    /// Linux releases the descriptor even when close() fails, so it is never retried.
    void reset(int fd = -1) noexcept {
        const int old = std::exchange(fd_, fd);
        if (old >= 0 && old != fd) ::close(old);  // reset(get()) keeps the descriptor open
    }

    /// Closes now and reports the result of close(2) (e.g. EIO from a device).
    [[nodiscard]] Result<> close() {
        const int old = std::exchange(fd_, -1);
        if (old >= 0 && ::close(old) != 0) return fail_errno("close", "fd=" + std::to_string(old));
        return {};
    }

private:
    int fd_ = -1;
};

KVMXX_END_NAMESPACE
