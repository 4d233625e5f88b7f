/* lx_console.c: consoles of real domains.
 *  - PV/PVH guests: the pty xenconsoled made for the guest's hvc0
 *    (libxl_console_get_tty), opened in raw mode; EIO/HUP when the domain
 *    goes away, as xenconsoled closes its side.
 *  - HVM guests: qemu's own VNC server, which lx_console_vnc_setup puts on
 *    a Unix socket in the state dir keyed by the VM's uuid (no TCP port
 *    anyone on the host could reach, no password to manage).
 *  - dom0: what a host console is, a login prompt (/bin/login on a fresh
 *    pty, as XAPI runs one behind vncterm): the host's own password applies.
 * Called without the world lock from the console thread: libxl's ctx is
 * thread-safe, the rest is plain system calls. */
#include "lx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../../../server/log.h"

#define LOGIN_PROGRAM "/bin/login"

bool lx_console_vnc_path(struct xg_drv *d, const char *uuid, char *out, size_t len)
{
    struct sockaddr_un sa;
    int n = snprintf(out, len, "%s/vnc-%s", d->state_dir, uuid);
    return n > 0 && (size_t)n < len && (size_t)n < sizeof sa.sun_path;
}

void lx_console_vnc_setup(struct xg_drv *d, const char *uuid, libxl_domain_build_info *b)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (!lx_console_vnc_path(d, uuid, path, sizeof path)) {
        XG_WARN("libxl", "VM %s: state dir too long for a VNC socket: no console", uuid);
        libxl_defbool_set(&b->u.hvm.vnc.enable, false);
        return;
    }
    unlink(path);                    /* a stale one from a domain that died */
    size_t n = strlen(path) + sizeof "unix:";
    char *listen = malloc(n);
    if (!listen)
        abort();
    snprintf(listen, n, "unix:%s", path);
    /* libxl passes a listen string with ':' to qemu as is; display 0 and no
     * findunused (its ",to=99" is a TCP option qemu refuses on a socket) */
    libxl_defbool_set(&b->u.hvm.vnc.enable, true);
    free(b->u.hvm.vnc.listen);
    b->u.hvm.vnc.listen = listen;
    b->u.hvm.vnc.display = 0;
    libxl_defbool_set(&b->u.hvm.vnc.findunused, false);
    free(b->u.hvm.vnc.passwd);
    b->u.hvm.vnc.passwd = NULL;
}

static bool open_tty(const char *path, int *fd, xg_err *err)
{
    int f = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0)
        return xg_err_internal(err, "cannot open console %s: %s", path, strerror(errno));
    struct termios t;
    if (tcgetattr(f, &t) == 0) {
        cfmakeraw(&t);              /* bytes as they are, as `xl console` sets it */
        tcsetattr(f, TCSANOW, &t);
    }
    *fd = f;
    return true;
}

static bool open_vnc(struct xg_drv *d, const char *uuid, int *fd, xg_err *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!lx_console_vnc_path(d, uuid, sa.sun_path, sizeof sa.sun_path))
        return xg_err_internal(err, "console: state dir path too long for a socket");
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return xg_err_internal(err, "console: socket: %s", strerror(errno));
    /* a local socket connects at once or not at all */
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(s);
        return xg_err_internal(err, "console: qemu VNC %s: %s", sa.sun_path, strerror(e));
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    *fd = s;
    return true;
}

/* A login prompt on a new pty. The child is orphaned at once (double
 * fork) so init reaps it; closing our side hangs it up. */
static bool open_login(int *fd, xg_err *err)
{
    if (access(LOGIN_PROGRAM, X_OK) != 0)
        return xg_err_internal(err, "console: no %s for the host console", LOGIN_PROGRAM);
    int master = -1, slave = -1;
    struct winsize ws = { .ws_row = 25, .ws_col = 80 };
    if (openpty(&master, &slave, NULL, NULL, &ws) != 0)
        return xg_err_internal(err, "console: openpty: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(master);
        close(slave);
        return xg_err_internal(err, "console: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if (fork() != 0)
            _exit(0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2)
            close(slave);
        close(master);
        execl(LOGIN_PROGRAM, "login", (char *)NULL);
        _exit(127);
    }
    close(slave);
    waitpid(pid, NULL, 0);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    *fd = master;
    return true;
}

bool lx_console_open(struct xg_drv *d, uint32_t domid, enum xg_console_kind *kind, int *fd,
                     xg_err *err)
{
    if (domid == 0) {
        *kind = XG_CONSOLE_TEXT;
        return open_login(fd, err);
    }
    libxl_dominfo info;
    libxl_dominfo_init(&info);
    int rc = libxl_domain_info(d->ctx, &info, domid);
    libxl_domain_type type = info.domain_type;
    char uuid[XG_UUID_STR];
    snprintf(uuid, sizeof uuid, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(info.uuid));
    libxl_dominfo_dispose(&info);
    if (rc)
        return lx_err(err, rc, "console: domain info", domid);
    if (type == LIBXL_DOMAIN_TYPE_HVM) {
        *kind = XG_CONSOLE_RFB;
        return open_vnc(d, uuid, fd, err);
    }
    char *path = NULL;
    rc = libxl_console_get_tty(d->ctx, domid, 0, LIBXL_CONSOLE_TYPE_PV, &path);
    if (rc || !path) {
        free(path);
        return lx_err(err, rc ? rc : ERROR_FAIL, "console: get tty", domid);
    }
    bool ok = open_tty(path, fd, err);
    free(path);
    *kind = XG_CONSOLE_TEXT;
    return ok;
}
