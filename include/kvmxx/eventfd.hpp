// kvmxx/eventfd.hpp — `EventFd`, the kernel's 64-bit counter that wakes a reader.
//
// An eventfd is the wire between the pieces of the interrupt path: vfio-pci
// signals one when the device interrupts, and KVM (through KVM_IRQFD) listens
// to the same one to inject a virtual interrupt. Nobody in userspace needs to
// be in between.
//
// Example [eventfd], built by tests/unit/doc_examples_test.cpp:
//
//     auto ev = kvmxx::EventFd::create();           // eventfd(0, EFD_CLOEXEC)
//     if (!ev || !ev->signal()) return;             // counter += 1
//     auto n = ev->try_read();                      // 1, counter back to 0
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "trace.hpp"
#include "unique_fd.hpp"

#include <poll.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>

KVMXX_BEGIN_NAMESPACE

/// An eventfd(2): a 64-bit counter in the kernel that one side signals and the
/// other waits on. KVM and VFIO speak it: VFIO signals one per device interrupt,
/// KVM_IRQFD injects when one is signalled, KVM_IOEVENTFD signals one on a guest
/// write. Move-only; closes its fd.
class EventFd {
public:
    /// The eventfd(2) flags and initial value create() takes.
    struct Options {
        bool nonblocking = false;  ///< EFD_NONBLOCK: reads of a zero counter fail with EAGAIN
        bool semaphore = false;    ///< EFD_SEMAPHORE: each read takes 1, not the whole count
        unsigned initial = 0;      ///< starting counter value
    };

    EventFd() = default;  // empty; use create()
    /// Adopts an existing eventfd (O_NONBLOCK is read back from it).
    explicit EventFd(UniqueFd fd) noexcept : fd_(std::move(fd)) {
        const int fl = fd_.valid() ? ::fcntl(fd_.get(), F_GETFL) : 0;
        nonblocking_ = fl >= 0 && (fl & O_NONBLOCK);
    }

    /// eventfd(2) with EFD_CLOEXEC.
    [[nodiscard]] static Result<EventFd> create(Options options) {
        int flags = EFD_CLOEXEC;
        if (options.nonblocking) flags |= EFD_NONBLOCK;
        if (options.semaphore) flags |= EFD_SEMAPHORE;
        const int fd = ::eventfd(options.initial, flags);
        if (fd < 0) return fail_errno("eventfd", "flags=" + trace::hex(static_cast<unsigned>(flags)));
        return EventFd(UniqueFd(fd));
    }
    /// eventfd(2) with EFD_CLOEXEC only: blocking, counter 0.
    [[nodiscard]] static Result<EventFd> create() { return create(Options{}); }

    /// Adds `n` to the counter, waking readers (and KVM, for an irqfd).
    [[nodiscard]] Result<> signal(std::uint64_t n = 1) const {
        if (::write(fd_.get(), &n, sizeof n) != static_cast<ssize_t>(sizeof n))
            return fail_errno("eventfd write", "fd=" + std::to_string(fd_.get()));
        return {};
    }

    /// Blocks until the counter is non-zero, then takes it (or 1 in semaphore mode).
    /// On a non-blocking eventfd with a zero counter this fails with EAGAIN.
    [[nodiscard]] Result<std::uint64_t> wait() const {
        std::uint64_t v = 0;
        for (;;) {
            if (::read(fd_.get(), &v, sizeof v) == static_cast<ssize_t>(sizeof v)) return v;
            if (errno != EINTR) return fail_errno("eventfd read", "fd=" + std::to_string(fd_.get()));
        }
    }

    /// Takes the counter if it is non-zero; std::nullopt when it is zero. Never
    /// blocks. On a non-blocking eventfd this is one read(2); otherwise poll + read.
    [[nodiscard]] Result<std::optional<std::uint64_t>> try_read() const {
        if (nonblocking_) {
            std::uint64_t v = 0;
            for (;;) {
                if (::read(fd_.get(), &v, sizeof v) == static_cast<ssize_t>(sizeof v)) return std::optional<std::uint64_t>(v);
                if (errno == EAGAIN) return std::optional<std::uint64_t>();
                if (errno != EINTR) return fail_errno("eventfd read", "fd=" + std::to_string(fd_.get()));
            }
        }
        auto ready = wait_for(std::chrono::milliseconds(0));
        if (!ready) return unexpected<Error>(std::move(ready).error());
        if (!*ready) return std::optional<std::uint64_t>();
        auto v = wait();
        if (!v) {
            // Another reader took it between poll and read.
            if (v.error().errnum() == EAGAIN) return std::optional<std::uint64_t>();
            return unexpected<Error>(std::move(v).error());
        }
        return std::optional<std::uint64_t>(*v);
    }

    /// Waits up to `timeout` for the counter to become non-zero, without taking it.
    [[nodiscard]] Result<bool> wait_for(std::chrono::milliseconds timeout) const {
        pollfd p{fd_.get(), POLLIN, 0};
        for (;;) {
            const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (r >= 0) return r > 0 && (p.revents & POLLIN) != 0;
            if (errno != EINTR) return fail_errno("poll", "eventfd fd=" + std::to_string(fd_.get()));
        }
    }

    int fd() const noexcept { return fd_.get(); }  ///< the raw eventfd, still owned here
    /// The EventSource hook: lets `Vm::irqfd` and `Vm::ioeventfd` take an EventFd.
    int event_fd() const noexcept { return fd_.get(); }
    bool valid() const noexcept { return fd_.valid(); }             ///< holds an eventfd (not default/moved-from)
    explicit operator bool() const noexcept { return valid(); }     ///< valid()
    /// Gives up ownership: returns the fd, which the caller must close.
    int release() noexcept { return fd_.release(); }

private:
    UniqueFd fd_;
    bool nonblocking_ = false;  ///< O_NONBLOCK: try_read needs no poll first
};

KVMXX_END_NAMESPACE
