// pty_run — runs a command on a new pseudo-terminal, as a person's terminal
// would: what arrives on stdin is typed into the terminal (the pty's master),
// and everything the command prints there is appended to OUTFILE. The emulated
// host has no script(1) or tmux; tests/e2e/inside.sh drives kvmxx-vmm's console
// through this instead.
//
//     pty_run OUTFILE COMMAND [ARGS...]      exit status: the command's (128 + N for signal N)
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fputs("usage: pty_run OUTFILE COMMAND [ARGS...]\n", stderr);
        return 2;
    }
    const int out = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) return std::perror(argv[1]), 2;
    int master = -1;
    const pid_t child = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (child < 0) return std::perror("forkpty"), 2;
    if (child == 0) {
        ::execvp(argv[2], argv + 2);
        std::perror(argv[2]);
        _exit(127);
    }
    pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    char buf[4096];
    for (;;) {
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: the command and everything it started closed the terminal
            if (::write(out, buf, static_cast<size_t>(n)) != n) break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) fds[1].fd = -1;  // stdin ended: the terminal stays open, nothing more typed
            else if (::write(master, buf, static_cast<size_t>(n)) != n) break;
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
