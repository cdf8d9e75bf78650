// console.hpp — where the guest's console goes, and what the user types into it.
//
//   --console stdio      output to stdout; stdin feeds the PL011's receive FIFO.
//                        A terminal is put in raw mode (every key goes to the
//                        guest, Ctrl-C too) and restored on every way out:
//                        return, exit(), SIGINT/SIGTERM (run_vcpus turns them into
//                        a return) and a crash (SIGSEGV, SIGABRT, ... restore,
//                        then die of the same signal).
//   --console file:PATH  output appended to PATH, no input
//   --console none       output discarded, no input
//
// Ctrl-A x quits, as in QEMU (Ctrl-A Ctrl-A sends one Ctrl-A to the guest).
//
//     auto console = vmm::Console::open(opt.console);
//     vmm::Pl011 uart(base, spi, console->output());
//     console->start_input(uart);         // a thread: stdin → uart.receive()
//     ... run ...; console->stop();       // before uart goes
#pragma once

#include "errors.hpp"
#include "pl011.hpp"

#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace vmm {

namespace detail {
inline termios saved_termios{};
inline std::atomic<bool> terminal_raw{false};

/// Puts stdin's terminal back as it was; async-signal-safe, and a no-op when not raw.
inline void restore_terminal() noexcept {
    if (terminal_raw.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}
inline void restore_and_die(int sig) {
    restore_terminal();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}
}  // namespace detail

class Console {
public:
    static constexpr std::uint8_t escape = 0x01;  ///< Ctrl-A

    /// "stdio", "none" or "file:PATH"; a bad_input error for anything else.
    static kvmxx::Result<std::unique_ptr<Console>> open(const std::string& spec) {
        std::unique_ptr<Console> c(new Console);
        if (spec == "stdio") {
            c->out_ = stdout;
            c->input_ = true;
        } else if (spec.rfind("file:", 0) == 0 && spec.size() > 5) {
            c->out_ = std::fopen(spec.c_str() + 5, "a");
            if (!c->out_)
                return bad_input("--console " + spec + ": cannot open " + spec.substr(5) + ": " + std::strerror(errno));
            c->owned_ = true;
        } else if (spec != "none") {
            return bad_input("--console " + spec + ": write stdio, none or file:PATH");
        }
        return c;
    }
    Console(const Console&) = delete;
    Console& operator=(const Console&) = delete;
    ~Console() {
        stop();
        detail::restore_terminal();
        if (owned_) std::fclose(out_);
    }

    /// Where the UART prints (null for none).
    std::FILE* output() const noexcept { return out_; }

    /// With stdio: raw mode if stdin is a terminal, then a thread feeding `uart`.
    void start_input(Pl011& uart) {
        if (!input_) return;
        if (::isatty(STDIN_FILENO)) make_raw();
        reader_ = std::thread([this, &uart] { read_loop(uart); });
    }
    /// Ends the input thread (call before the UART goes) and restores the terminal.
    void stop() {
        stopping_ = true;
        if (reader_.joinable()) reader_.join();
        detail::restore_terminal();
    }
    /// Whether the user typed the quit sequence (run_vcpus polls it).
    bool quit_requested() const noexcept { return quit_.load(); }

private:
    Console() = default;

    static void make_raw() {
        if (::tcgetattr(STDIN_FILENO, &detail::saved_termios) != 0) return;
        termios raw = detail::saved_termios;
        ::cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR;  // the VMM's own messages still start at the left
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
            struct sigaction sa {};
            sa.sa_handler = detail::restore_and_die;
            sa.sa_flags = SA_RESETHAND;
            ::sigaction(sig, &sa, nullptr);
        }
        static const bool at_exit = std::atexit(detail::restore_terminal) == 0;
        (void)at_exit;
        if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) detail::terminal_raw = true;
        std::fputs("kvmxx-vmm: console: raw terminal; Ctrl-A x quits\r\n", stderr);
    }

    void read_loop(Pl011& uart) {
        bool after_escape = false;
        std::uint8_t buf[64];
        while (!stopping_) {
            pollfd p{STDIN_FILENO, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;  // a tick: look at stopping_ again
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return;  // end of input (a pipe closed): the guest runs on without it
            for (ssize_t i = 0; i < n; ++i) {
                const std::uint8_t b = buf[i];
                if (after_escape) {
                    after_escape = false;
                    if (b == 'x') {
                        quit_ = true;
                        return;
                    }
                    if (b != escape) send(uart, escape);  // not a command: both bytes go through
                } else if (b == escape) {
                    after_escape = true;
                    continue;
                }
                send(uart, b);
            }
        }
    }
    void send(Pl011& uart, std::uint8_t b) {
        while (!stopping_ && !uart.receive(b, std::chrono::milliseconds(100))) {
        }
    }

    std::FILE* out_ = nullptr;
    bool owned_ = false, input_ = false;
    std::thread reader_;
    std::atomic<bool> stopping_{false}, quit_{false};
};

}  // namespace vmm
