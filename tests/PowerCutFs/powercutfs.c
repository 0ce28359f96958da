/*
 * powercutfs: a FUSE passthrough file system that can "cut the power".
 *
 *   powercutfs [--ext4] [--tear] [--seed=N] [--nosync=GLOB] BACKING MOUNTPOINT
 *
 * The backing folder stands for the disk: whatever is in it is durable. Everything a program writes that it has not
 * made durable lives in a volatile layer that reads see, exactly like a page cache:
 *
 *   - data: per file (by inode, shared by every open handle, kept after close) an overlay of dirty 4 KiB pages and a
 *     pending size. fsync/fdatasync, or a write through an O_SYNC/O_DSYNC handle, copies that file's overlay into the
 *     backing file. Nothing reaches the backing file otherwise.
 *   - names: a create, mkdir, link, symlink, unlink, rmdir or rename is applied to the backing folder at once but
 *     logged with how to undo it; it becomes durable (its undo entry is dropped) only when its parent directory is
 *     fsynced (both parents for a rename), as POSIX requires. An unlinked or replaced file waits in a hidden trash
 *     folder until then. --ext4 gives the weaker ordering ext4 gives in practice: names are durable at once.
 *
 * SIGUSR1 cuts the power: requests stop (whatever arrives after the signal fails with EIO), the volatile layer is
 * dropped, the names not yet durable are undone newest first, the file system unmounts and the process exits 0.
 * With --tear, a random prefix of the last unsynced write reaches the disk first (a torn write). SIGTERM or an
 * unmount is a clean shutdown: everything is made durable, as a clean unmount would.
 *
 * --nosync=GLOB: fsync and O_SYNC/O_DSYNC on files whose name matches GLOB are answered but not honoured, which is
 * what the disk would hold if the program had never asked for them (for negative controls: the harness must see it).
 *
 * Files named *-shm are passed straight through: SQLite's WAL index is mmap'd (written back by the kernel whenever it
 * likes, so it can never be held back faithfully), holds nothing durable, and is rebuilt from the -wal file by the
 * first connection after a crash. Leaving it always-durable is therefore legitimate and keeps mmap out of the model.
 *
 * Runs single-threaded (-s), so the requests are a sequence and a cut falls between two of them. Limits: the undo log
 * holds paths, so renaming a directory that holds names not yet durable undoes them at the wrong place (the gateway
 * and SQLite rename no directories); renaming over a directory is refused.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define TRASH ".powercutfs-trash"

static char backing[PATH_MAX / 2];   /* half, so a backing path plus a name always fits a PATH_MAX buffer */
static int ext4_order, tear;
static const char *nosync_glob;
static volatile sig_atomic_t power_off;
static struct fuse_session *session;

/* ---- data: dirty pages per inode ---------------------------------------------------------------------------- */

struct dirty {
    ino_t ino;
    int fd;              /* our own handle on the backing file: the overlay outlives the program's handles */
    off_t size;          /* the size programs see */
    off_t floor;         /* backing bytes at or past this were cut by a pending truncate and read as zero */
    size_t npages;
    unsigned char **pages;
    struct dirty *next;
};
static struct dirty *dirty_files;

/* The last write that is not durable, for --tear. */
static struct { ino_t ino; off_t off; size_t len; char *data; int valid; } last_write;

struct handle { int fd; int sync; int passthrough; int nosync; };
#define HANDLE(fi) ((struct handle *)(uintptr_t)(fi)->fh)

static struct dirty *dirty_find(ino_t ino)
{
    for (struct dirty *d = dirty_files; d; d = d->next)
        if (d->ino == ino) return d;
    return NULL;
}

static struct dirty *dirty_get(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return NULL;
    struct dirty *d = dirty_find(st.st_ino);
    if (d) return d;
    d = calloc(1, sizeof *d);
    d->ino = st.st_ino;
    d->fd = dup(fd);
    d->size = d->floor = st.st_size;
    d->next = dirty_files;
    dirty_files = d;
    return d;
}

static void dirty_free(struct dirty *d)
{
    for (struct dirty **p = &dirty_files; *p; p = &(*p)->next)
        if (*p == d) { *p = d->next; break; }
    for (size_t i = 0; i < d->npages; i++) free(d->pages[i]);
    free(d->pages);
    close(d->fd);
    free(d);
}

/* Reads what the disk holds of page idx: backing bytes below the floor, zeros past it. */
static void backing_page(struct dirty *d, size_t idx, unsigned char *buf)
{
    memset(buf, 0, PAGE);
    off_t start = (off_t)idx * PAGE;
    if (start < d->floor) {
        size_t want = d->floor - start < PAGE ? (size_t)(d->floor - start) : PAGE;
        if (pread(d->fd, buf, want, start) < 0) { /* a hole past the backing end reads as zeros */ }
    }
}

static unsigned char *page_get(struct dirty *d, size_t idx)
{
    if (idx >= d->npages) {
        size_t n = idx + 1 > d->npages * 2 ? idx + 1 : d->npages * 2;
        d->pages = realloc(d->pages, n * sizeof *d->pages);
        memset(d->pages + d->npages, 0, (n - d->npages) * sizeof *d->pages);
        d->npages = n;
    }
    if (!d->pages[idx]) {
        d->pages[idx] = malloc(PAGE);
        backing_page(d, idx, d->pages[idx]);
    }
    return d->pages[idx];
}

static int dirty_read(struct dirty *d, char *buf, size_t len, off_t off)
{
    if (off >= d->size) return 0;
    if ((off_t)len > d->size - off) len = d->size - off;
    unsigned char tmp[PAGE];
    for (size_t done = 0; done < len;) {
        size_t idx = (off + done) / PAGE, in = (off + done) % PAGE, n = PAGE - in < len - done ? PAGE - in : len - done;
        unsigned char *page = idx < d->npages && d->pages[idx] ? d->pages[idx] : (backing_page(d, idx, tmp), tmp);
        memcpy(buf + done, page + in, n);
        done += n;
    }
    return len;
}

static void dirty_write(struct dirty *d, const char *buf, size_t len, off_t off)
{
    for (size_t done = 0; done < len;) {
        size_t idx = (off + done) / PAGE, in = (off + done) % PAGE, n = PAGE - in < len - done ? PAGE - in : len - done;
        memcpy(page_get(d, idx) + in, buf + done, n);
        done += n;
    }
    if (off + (off_t)len > d->size) d->size = off + len;
    free(last_write.data);
    last_write.data = malloc(len);
    memcpy(last_write.data, buf, len);
    last_write.ino = d->ino, last_write.off = off, last_write.len = len, last_write.valid = 1;
}

static void dirty_truncate(struct dirty *d, off_t size)
{
    if (size < d->size) {
        for (size_t idx = (size + PAGE - 1) / PAGE; idx < d->npages; idx++) { free(d->pages[idx]); d->pages[idx] = NULL; }
        size_t idx = size / PAGE;
        if (size % PAGE && idx < d->npages && d->pages[idx]) memset(d->pages[idx] + size % PAGE, 0, PAGE - size % PAGE);
        if (size < d->floor) d->floor = size;
    }
    d->size = size;
}

/* Makes a file's overlay durable: the disk now holds what programs see. The backing file is not fsynced itself: the
 * backing folder is never cut, so what is in it is durable by definition, and the harness stays fast. */
static int dirty_flush(struct dirty *d)
{
    int res = 0;
    struct stat st;
    if (fstat(d->fd, &st) == 0 && d->floor < st.st_size && ftruncate(d->fd, d->floor) < 0) res = -errno;
    for (size_t idx = 0; idx < d->npages && !res; idx++) {
        off_t start = (off_t)idx * PAGE;
        if (!d->pages[idx] || start >= d->size) continue;
        size_t n = d->size - start < PAGE ? (size_t)(d->size - start) : PAGE;
        if (pwrite(d->fd, d->pages[idx], n, start) != (ssize_t)n) res = -EIO;
    }
    if (!res && ftruncate(d->fd, d->size) < 0) res = -errno;
    if (last_write.valid && last_write.ino == d->ino) last_write.valid = 0;
    dirty_free(d);
    return res;
}

/* ---- names: the undo log of namespace operations not yet durable --------------------------------------------- */

enum kind { CREATED, UNLINKED, RMDIRED, RENAMED };
struct nsop {
    enum kind kind;
    char *path, *from;   /* from: the old name of a rename */
    char *dir[2];        /* directories whose fsync makes it durable */
    int synced[2];
    long trash;          /* >= 0: the unlinked or replaced file waits in the trash under this number */
    mode_t mode;
    struct nsop *next;
};
static struct nsop *log_head, **log_tail = &log_head;
static long trash_count;

static void bp(char *out, const char *path) { snprintf(out, PATH_MAX, "%s%s", backing, path ? path : ""); }
static void trash_path(char *out, long n) { snprintf(out, PATH_MAX, "%s/" TRASH "/%ld", backing, n); }

static char *parent(const char *path)
{
    char *p = strdup(path), *slash = strrchr(p, '/');
    if (slash == p) p[1] = 0; else *slash = 0;
    return p;
}

static void log_op(enum kind kind, const char *path, const char *from, long trash, mode_t mode)
{
    struct nsop *op = calloc(1, sizeof *op);
    op->kind = kind, op->trash = trash, op->mode = mode;
    op->path = strdup(path);
    op->dir[0] = parent(path);
    if (from) { op->from = strdup(from); op->dir[1] = parent(from); }
    *log_tail = op;
    log_tail = &op->next;
}

static int remove_entry(const char *p, const struct stat *s, int flag, struct FTW *f) { (void)s, (void)flag, (void)f; return remove(p); }
static void remove_tree(const char *p) { nftw(p, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Moves a name out of the way into the trash, where an undo finds it again. */
static long to_trash(const char *real)
{
    char t[PATH_MAX];
    trash_path(t, trash_count);
    return rename(real, t) < 0 ? -1 : trash_count++;
}

static void op_free(struct nsop *op)
{
    free(op->path), free(op->from), free(op->dir[0]), free(op->dir[1]), free(op);
}

/* A directory was fsynced (NULL: all of them, at a clean unmount): every logged operation whose directories are
 * now all synced is durable. */
static void log_sync_dir(const char *dir)
{
    for (struct nsop **p = &log_head; *p;) {
        struct nsop *op = *p;
        for (int i = 0; i < 2; i++)
            if (op->dir[i] && (!dir || strcmp(op->dir[i], dir) == 0)) op->synced[i] = 1;
        if (op->synced[0] && (!op->dir[1] || op->synced[1])) {
            if (op->trash >= 0) { char t[PATH_MAX]; trash_path(t, op->trash); remove_tree(t); }
            *p = op->next;
            op_free(op);
        } else {
            p = &op->next;
        }
    }
    log_tail = &log_head;
    while (*log_tail) log_tail = &(*log_tail)->next;
}

/* The power is cut: undo every operation not yet durable, newest first, so each finds the names as it left them. */
static void log_undo(struct nsop *op)
{
    if (!op) return;
    log_undo(op->next);
    char real[PATH_MAX], other[PATH_MAX], t[PATH_MAX];
    bp(real, op->path);
    if (op->trash >= 0) trash_path(t, op->trash);
    switch (op->kind) {
    case CREATED: remove_tree(real); break;
    case UNLINKED: rename(t, real); break;
    case RMDIRED: mkdir(real, op->mode); break;
    case RENAMED:
        bp(other, op->from);
        rename(real, other);
        if (op->trash >= 0) rename(t, real);
        break;
    }
}

/* ---- the file system ---------------------------------------------------------------------------------------- */

#define POWER() do { if (power_off) return -EIO; } while (0)
#define HIDDEN(path) ((path) && strncmp((path), "/" TRASH, sizeof TRASH) == 0)

static int matches_nosync(const char *path)
{
    const char *name = path ? strrchr(path, '/') : NULL;
    return nosync_glob && name && fnmatch(nosync_glob, name + 1, 0) == 0;
}

static int is_passthrough(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 4 && strcmp(path + n - 4, "-shm") == 0;
}

static void on_power_cut(int sig)
{
    (void)sig;
    power_off = 1;
    if (session) fuse_session_exit(session);
}

static void *pc_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->hard_remove = 1;   /* unlink really unlinks; no .fuse_hidden renames in the namespace log */
    cfg->nullpath_ok = 1;   /* so handle operations on unlinked files reach us with their handle */
    session = fuse_get_session(fuse_get_context()->fuse);
    struct sigaction sa = { .sa_handler = on_power_cut };  /* no SA_RESTART: the blocked read returns, the loop ends */
    sigaction(SIGUSR1, &sa, NULL);
    return NULL;
}

static int pc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    POWER();
    if (HIDDEN(path)) return -ENOENT;
    char real[PATH_MAX];
    bp(real, path);
    if ((fi ? fstat(HANDLE(fi)->fd, st) : lstat(real, st)) < 0) return -errno;
    struct dirty *d = S_ISREG(st->st_mode) ? dirty_find(st->st_ino) : NULL;
    if (d) { st->st_size = d->size; st->st_blocks = (d->size + 511) / 512; }
    return 0;
}

/* A directory handle keeps its path: with nullpath_ok, readdir and fsyncdir may be called without one. */
static int pc_opendir(const char *path, struct fuse_file_info *fi)
{
    POWER();
    if (HIDDEN(path)) return -ENOENT;
    fi->fh = (uintptr_t)strdup(path);
    return 0;
}

static int pc_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    free((char *)(uintptr_t)fi->fh);
    return 0;
}

static int pc_readdir(const char *unused, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)unused, (void)off, (void)flags;
    POWER();
    const char *path = (const char *)(uintptr_t)fi->fh;
    char real[PATH_MAX];
    bp(real, path);
    DIR *dir = opendir(real);
    if (!dir) return -errno;
    for (struct dirent *e; (e = readdir(dir));)
        if (!(strcmp(path, "/") == 0 && strcmp(e->d_name, TRASH) == 0)) fill(buf, e->d_name, NULL, 0, 0);
    closedir(dir);
    return 0;
}

static int open_handle(const char *path, int fd, int flags, struct fuse_file_info *fi)
{
    struct handle *h = calloc(1, sizeof *h);
    h->fd = fd;
    h->sync = (flags & (O_SYNC | O_DSYNC)) != 0;
    h->passthrough = is_passthrough(path);
    h->nosync = matches_nosync(path);
    fi->fh = (uintptr_t)h;
    if ((flags & O_TRUNC) && !h->passthrough) dirty_truncate(dirty_get(fd), 0);
    return 0;
}

/* The backing handle is always read-write (our overlay flushes through it) and never appends or syncs by itself. */
static int backing_flags(const char *path, int flags)
{
    int strip = O_ACCMODE | O_APPEND | O_SYNC | O_DSYNC | O_DIRECT | (is_passthrough(path) ? 0 : O_TRUNC);
    return (flags & ~strip) | O_RDWR;
}

static int pc_open(const char *path, struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    int fd = open(real, backing_flags(path, fi->flags) & ~(O_CREAT | O_EXCL));
    return fd < 0 ? -errno : open_handle(path, fd, fi->flags, fi);
}

static int pc_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    struct stat st;
    bp(real, path);
    int existed = lstat(real, &st) == 0;
    int fd = open(real, backing_flags(path, fi->flags) | O_CREAT, mode);
    if (fd < 0) return -errno;
    if (!existed && !ext4_order) log_op(CREATED, path, NULL, -1, 0);
    return open_handle(path, fd, existed ? fi->flags : fi->flags & ~O_TRUNC, fi);
}

static int pc_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    POWER();
    struct handle *h = HANDLE(fi);
    struct stat st;
    struct dirty *d = !h->passthrough && fstat(h->fd, &st) == 0 ? dirty_find(st.st_ino) : NULL;
    if (d) return dirty_read(d, buf, len, off);
    ssize_t n = pread(h->fd, buf, len, off);
    return n < 0 ? -errno : (int)n;
}

static int pc_write(const char *path, const char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    POWER();
    struct handle *h = HANDLE(fi);
    if (h->passthrough) {
        ssize_t n = pwrite(h->fd, buf, len, off);
        return n < 0 ? -errno : (int)n;
    }
    struct dirty *d = dirty_get(h->fd);
    if (!d) return -errno;
    dirty_write(d, buf, len, off);
    /* An O_SYNC/O_DSYNC handle (or a per-write RWF_DSYNC the kernel passes in the flags) is durable on return. */
    if ((h->sync || (fi->flags & (O_SYNC | O_DSYNC))) && !h->nosync) {
        int res = dirty_flush(d);
        if (res) return res;
    }
    return len;
}

static int pc_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    int fd = fi ? HANDLE(fi)->fd : open(real, O_RDWR);
    if (fd < 0) return -errno;
    int res = 0;
    if (is_passthrough(path) || (fi && HANDLE(fi)->passthrough)) res = ftruncate(fd, size) < 0 ? -errno : 0;
    else dirty_truncate(dirty_get(fd), size);
    if (!fi) close(fd);
    return res;
}

static int pc_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    POWER();
    struct handle *h = HANDLE(fi);
    struct stat st;
    if (h->nosync || matches_nosync(path) || fstat(h->fd, &st) < 0) return 0;
    struct dirty *d = dirty_find(st.st_ino);
    return d ? dirty_flush(d) : 0;
}

static int pc_fsyncdir(const char *unused, int datasync, struct fuse_file_info *fi)
{
    (void)unused, (void)datasync;
    POWER();
    log_sync_dir((const char *)(uintptr_t)fi->fh);
    return 0;
}

static int pc_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close(HANDLE(fi)->fd);
    free(HANDLE(fi));
    return 0;
}

static int pc_mkdir(const char *path, mode_t mode)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    if (mkdir(real, mode) < 0) return -errno;
    if (!ext4_order) log_op(CREATED, path, NULL, -1, 0);
    return 0;
}

static int pc_mknod(const char *path, mode_t mode, dev_t rdev)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    if (mknod(real, mode, rdev) < 0) return -errno;
    if (!ext4_order) log_op(CREATED, path, NULL, -1, 0);
    return 0;
}

static int pc_symlink(const char *target, const char *path)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    if (symlink(target, real) < 0) return -errno;
    if (!ext4_order) log_op(CREATED, path, NULL, -1, 0);
    return 0;
}

static int pc_link(const char *from, const char *to)
{
    POWER();
    char a[PATH_MAX], b[PATH_MAX];
    bp(a, from), bp(b, to);
    if (link(a, b) < 0) return -errno;
    if (!ext4_order) log_op(CREATED, to, NULL, -1, 0);
    return 0;
}

static int pc_unlink(const char *path)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    if (ext4_order) return unlink(real) < 0 ? -errno : 0;
    struct stat st;
    if (lstat(real, &st) < 0) return -errno;
    if (S_ISDIR(st.st_mode)) return -EISDIR;
    long t = to_trash(real);   /* open handles keep working: the inode lives on in the trash */
    if (t < 0) return -errno;
    log_op(UNLINKED, path, NULL, t, 0);
    return 0;
}

static int pc_rmdir(const char *path)
{
    POWER();
    char real[PATH_MAX];
    struct stat st;
    bp(real, path);
    if (lstat(real, &st) < 0) return -errno;
    if (rmdir(real) < 0) return -errno;
    if (!ext4_order) log_op(RMDIRED, path, NULL, -1, st.st_mode & 07777);
    return 0;
}

static int pc_rename(const char *from, const char *to, unsigned int flags)
{
    POWER();
    char a[PATH_MAX], b[PATH_MAX];
    struct stat st;
    bp(a, from), bp(b, to);
    if (flags & ~RENAME_NOREPLACE) return -EINVAL;
    int exists = lstat(b, &st) == 0;
    if (exists && (flags & RENAME_NOREPLACE)) return -EEXIST;
    if (ext4_order) return rename(a, b) < 0 ? -errno : 0;
    if (exists && S_ISDIR(st.st_mode)) return -ENOTSUP;
    if (lstat(a, &st) < 0) return -errno;
    long t = exists ? to_trash(b) : -1;
    if (exists && t < 0) return -errno;
    if (rename(a, b) < 0) {
        int err = errno;
        if (t >= 0) { char tp[PATH_MAX]; trash_path(tp, t); rename(tp, b); }
        return -err;
    }
    log_op(RENAMED, to, from, t, 0);
    return 0;
}

static int pc_readlink(const char *path, char *buf, size_t size)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    ssize_t n = readlink(real, buf, size - 1);
    if (n < 0) return -errno;
    buf[n] = 0;
    return 0;
}

static int pc_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    return (fi ? fchmod(HANDLE(fi)->fd, mode) : chmod(real, mode)) < 0 ? -errno : 0;
}

static int pc_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    return (fi ? fchown(HANDLE(fi)->fd, uid, gid) : lchown(real, uid, gid)) < 0 ? -errno : 0;
}

static int pc_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    return (fi ? futimens(HANDLE(fi)->fd, tv) : utimensat(AT_FDCWD, real, tv, AT_SYMLINK_NOFOLLOW)) < 0 ? -errno : 0;
}

static int pc_statfs(const char *path, struct statvfs *st)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    return statvfs(real, st) < 0 ? -errno : 0;
}

static int pc_access(const char *path, int mask)
{
    POWER();
    char real[PATH_MAX];
    bp(real, path);
    return HIDDEN(path) ? -ENOENT : access(real, mask) < 0 ? -errno : 0;
}

static const struct fuse_operations operations = {
    .init = pc_init, .getattr = pc_getattr, .opendir = pc_opendir, .releasedir = pc_releasedir, .readdir = pc_readdir, .open = pc_open, .create = pc_create,
    .read = pc_read, .write = pc_write, .truncate = pc_truncate, .fsync = pc_fsync, .fsyncdir = pc_fsyncdir,
    .release = pc_release, .mkdir = pc_mkdir, .mknod = pc_mknod, .symlink = pc_symlink, .link = pc_link,
    .unlink = pc_unlink, .rmdir = pc_rmdir, .rename = pc_rename, .readlink = pc_readlink, .chmod = pc_chmod,
    .chown = pc_chown, .utimens = pc_utimens, .statfs = pc_statfs, .access = pc_access,
};

int main(int argc, char **argv)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--ext4") == 0) ext4_order = 1;
        else if (strcmp(argv[i], "--tear") == 0) tear = 1;
        else if (strncmp(argv[i], "--seed=", 7) == 0) seed = (unsigned)strtoul(argv[i] + 7, NULL, 10);
        else if (strncmp(argv[i], "--nosync=", 9) == 0) nosync_glob = argv[i] + 9;
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: %s [--ext4] [--tear] [--seed=N] [--nosync=GLOB] BACKING MOUNTPOINT\n", argv[0]);
        return 2;
    }
    char resolved[PATH_MAX];
    if (!realpath(argv[i], resolved) || strlen(resolved) >= sizeof backing) { perror(argv[i]); return 2; }
    strcpy(backing, resolved);
    srand(seed);

    /* Leftover trash is from a run killed without a cut: those unlinks were never undone, so they happened. */
    char t[PATH_MAX];
    snprintf(t, sizeof t, "%s/" TRASH, backing);
    remove_tree(t);
    if (mkdir(t, 0700) < 0) { perror(t); return 2; }

    char *args[] = { argv[0], "-f", "-s", "-o", "fsname=powercutfs,subtype=powercutfs", argv[i + 1], NULL };
    int res = fuse_main(6, args, &operations, NULL);

    /* The loop has ended and the mount is detached: nothing more can change. */
    if (power_off) {
        struct dirty *d = last_write.valid ? dirty_find(last_write.ino) : NULL;
        if (tear && d && last_write.len > 0) {
            size_t n = (size_t)rand() % last_write.len;   /* a prefix, possibly empty, never the whole write */
            if (pwrite(d->fd, last_write.data, n, last_write.off) < 0) perror("torn write");
            fprintf(stderr, "powercutfs: torn the last unsynced write to %zu of %zu bytes\n", n, last_write.len);
        }
        while (dirty_files) dirty_free(dirty_files);
        log_undo(log_head);
        fprintf(stderr, "powercutfs: power cut\n");
    } else {
        while (dirty_files) dirty_flush(dirty_files);
        log_sync_dir(NULL);
    }
    remove_tree(t);
    return power_off ? 0 : res;
}
