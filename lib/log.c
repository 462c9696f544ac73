/* Logging: vlog-style lines
 *     "2026-11-25T08:40:01.123Z|00012|MODULE|LEVEL|message"
 * to a file, syslog and/or stderr, per-module levels and a lock-free rate
 * limiter for the fast path. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Lines longer than this are cut; the fast path never allocates. */
#define LOG_LINE_MAX 4096

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct log_module *modules; /* registered, newest first */
static int file_fd = -1;
static char *file_path;
static char *syslog_ident; /* non-NULL: syslog is in use */
static bool stderr_on = true;
static unsigned int seqno; /* atomic */

/* Set by log_rl_allow() for the log_write() that follows it on the same
 * thread, so the "suppressed" note goes to the caller's module. */
static _Thread_local uint32_t rl_suppressed;

static const char *const level_upper[] = {
    [LOG_L_OFF] = "OFF",   [LOG_L_ERR] = "ERR", [LOG_L_WARN] = "WARN",
    [LOG_L_INFO] = "INFO", [LOG_L_DBG] = "DBG",
};
static const char *const level_lower[] = {
    [LOG_L_OFF] = "off",   [LOG_L_ERR] = "err", [LOG_L_WARN] = "warn",
    [LOG_L_INFO] = "info", [LOG_L_DBG] = "dbg",
};

const char *
log_level_name(enum log_level level)
{
    return level <= LOG_L_DBG ? level_lower[level] : "?";
}

int
log_level_from_string(const char *s)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"off", LOG_L_OFF},   {"emer", LOG_L_ERR},  {"err", LOG_L_ERR},
        {"error", LOG_L_ERR}, {"warn", LOG_L_WARN}, {"info", LOG_L_INFO},
        {"dbg", LOG_L_DBG},   {"debug", LOG_L_DBG},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(s, names[i].name)) {
            return names[i].level;
        }
    }
    return -EINVAL;
}

void
log_register(struct log_module *m)
{
    pthread_mutex_lock(&log_mutex);
    for (struct log_module *p = modules; p; p = p->next) {
        if (p == m) {
            pthread_mutex_unlock(&log_mutex);
            return;
        }
    }
    m->next = modules;
    modules = m;
    pthread_mutex_unlock(&log_mutex);
}

struct log_module *
log_find_module(const char *name)
{
    struct log_module *m;

    pthread_mutex_lock(&log_mutex);
    for (m = modules; m; m = m->next) {
        if (!strcasecmp(m->name, name)) {
            break;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return m;
}

int
log_open_file(const char *path)
{
    int fd = -1;
    char *copy = NULL;

    if (path) {
        copy = strdup(path);
        if (!copy) {
            return -ENOMEM;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            int err = -errno;
            free(copy);
            return err;
        }
    }

    pthread_mutex_lock(&log_mutex);
    int old_fd = file_fd;
    char *old_path = file_path;
    file_fd = fd;
    file_path = copy;
    pthread_mutex_unlock(&log_mutex);

    if (old_fd >= 0) {
        close(old_fd);
    }
    free(old_path);
    return 0;
}

int
log_reopen(void)
{
    char *path = NULL;

    pthread_mutex_lock(&log_mutex);
    if (file_path) {
        path = strdup(file_path);
    }
    bool had_file = file_path != NULL;
    pthread_mutex_unlock(&log_mutex);

    if (!had_file) {
        return 0;
    }
    if (!path) {
        return -ENOMEM;
    }
    /* On failure the old descriptor stays in use: logging into a rotated
     * file beats losing the lines. */
    int err = log_open_file(path);
    free(path);
    return err;
}

void
log_use_syslog(const char *ident)
{
    char *copy = ident ? strdup(ident) : NULL;

    pthread_mutex_lock(&log_mutex);
    if (syslog_ident) {
        closelog();
    }
    free(syslog_ident);
    /* openlog() keeps the pointer, so the copy lives until the next call. */
    syslog_ident = copy;
    if (copy) {
        openlog(copy, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
    pthread_mutex_unlock(&log_mutex);
}

void
log_use_stderr(bool on)
{
    pthread_mutex_lock(&log_mutex);
    stderr_on = on;
    pthread_mutex_unlock(&log_mutex);
}

void
log_close(void)
{
    log_open_file(NULL);
    log_use_syslog(NULL);
}

static void
set_level(struct log_module *m, enum log_level level)
{
    /* Read without a lock by the LOG_* macros on any thread. */
    __atomic_store_n(&m->level, level, __ATOMIC_RELAXED);
}

static bool
is_destination(const char *word)
{
    return !strcasecmp(word, "console") || !strcasecmp(word, "syslog") ||
           !strcasecmp(word, "file");
}

int
log_set_spec_msg(const char *spec, char **errmsg)
{
    char *copy = strdup(spec);
    struct log_module *module = NULL;
    int level = -1;
    int err = 0;
    char *msg = NULL;

    if (errmsg) {
        *errmsg = NULL;
    }
    if (!copy) {
        return -ENOMEM;
    }

    int n_words = 0;
    char *save = NULL;
    for (char *w = strtok_r(copy, ":", &save); w;
         w = strtok_r(NULL, ":", &save)) {
        int l;

        if (++n_words > 3) {
            err = asprintf(&msg, "too many words");
            break;
        }
        if (!strcasecmp(w, "ANY") || is_destination(w)) {
            continue;
        }
        l = log_level_from_string(w);
        if (l >= 0) {
            if (level >= 0) {
                err = asprintf(&msg, "more than one level");
                break;
            }
            level = l;
            continue;
        }
        struct log_module *m = log_find_module(w);
        if (!m) {
            err = asprintf(&msg, "unknown module '%s'", w);
            break;
        }
        if (module) {
            err = asprintf(&msg, "more than one module");
            break;
        }
        module = m;
    }
    free(copy);

    if (!msg && n_words == 0) {
        err = asprintf(&msg, "empty spec");
    }
    if (msg || err < 0) {
        if (errmsg) {
            *errmsg = msg;
        } else {
            free(msg);
        }
        return -EINVAL;
    }

    /* As with vlog, naming no level means "everything". */
    if (level < 0) {
        level = LOG_L_DBG;
    }
    if (module) {
        set_level(module, level);
    } else {
        pthread_mutex_lock(&log_mutex);
        for (struct log_module *m = modules; m; m = m->next) {
            set_level(m, level);
        }
        pthread_mutex_unlock(&log_mutex);
    }
    return 0;
}

int
log_set_spec(const char *spec)
{
    return log_set_spec_msg(spec, NULL);
}

static int
compare_modules(const void *a_, const void *b_)
{
    const struct log_module *const *a = a_;
    const struct log_module *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

char *
log_list(void)
{
    size_t n = 0, len = 0;
    char *out = NULL;

    pthread_mutex_lock(&log_mutex);
    for (struct log_module *m = modules; m; m = m->next) {
        n++;
    }
    struct log_module **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (sorted) {
        n = 0;
        for (struct log_module *m = modules; m; m = m->next) {
            sorted[n++] = m;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    if (!sorted) {
        return NULL;
    }
    qsort(sorted, n, sizeof *sorted, compare_modules);

    FILE *f = open_memstream(&out, &len);
    if (f) {
        for (size_t i = 0; i < n; i++) {
            enum log_level level =
                __atomic_load_n(&sorted[i]->level, __ATOMIC_RELAXED);
            fprintf(f, "%-20s  %s\n", sorted[i]->name, log_level_name(level));
        }
        if (fclose(f)) {
            free(out);
            out = NULL;
        }
    }
    free(sorted);
    return out;
}

/* Appends "TIME|SEQ|MODULE|LEVEL|" to 'buf'; returns the length and in
 * '*syslog_ofs' where the part after the timestamp starts (syslog adds
 * its own time). */
static size_t
format_prefix(char *buf, size_t size, const struct log_module *m,
              enum log_level level, size_t *syslog_ofs)
{
    struct timespec ts;
    struct tm tm;
    unsigned int seq = __atomic_add_fetch(&seqno, 1, __ATOMIC_RELAXED);

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(buf + n, size - n, ".%03ldZ|", ts.tv_nsec / 1000000);
    *syslog_ofs = n;
    n += snprintf(buf + n, size - n, "%05u|%s|%s|", seq, m->name,
                  level_upper[level]);
    return n < size ? n : size - 1;
}

/* Formats one complete line, newline included; returns its length. */
static size_t format_line(char *buf, size_t size, const struct log_module *m,
                          enum log_level level, size_t *syslog_ofs,
                          const char *fmt, va_list args)
    __attribute__((format(printf, 6, 0)));

static size_t
format_line(char *buf, size_t size, const struct log_module *m,
            enum log_level level, size_t *syslog_ofs, const char *fmt,
            va_list args)
{
    size_t n = format_prefix(buf, size, m, level, syslog_ofs);
    int k = vsnprintf(buf + n, size - n, fmt, args);

    if (k < 0) {
        k = 0;
    }
    n = (size_t)k < size - n - 1 ? n + k : size - 2;
    /* Strip trailing newlines a caller may have added. */
    while (n > *syslog_ofs && buf[n - 1] == '\n') {
        n--;
    }
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

static void
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        buf += n;
        len -= n;
    }
}

static int
syslog_priority(enum log_level level)
{
    switch (level) {
    case LOG_L_ERR:
        return LOG_ERR;
    case LOG_L_WARN:
        return LOG_WARNING;
    case LOG_L_INFO:
        return LOG_INFO;
    default:
        return LOG_DEBUG;
    }
}

static void format_line_v(char *buf, size_t size, size_t *len,
                          size_t *syslog_ofs, const struct log_module *m,
                          enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void
format_line_v(char *buf, size_t size, size_t *len, size_t *syslog_ofs,
              const struct log_module *m, enum log_level level,
              const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    *len = format_line(buf, size, m, level, syslog_ofs, fmt, args);
    va_end(args);
}

void
log_write(const struct log_module *m, enum log_level level, const char *fmt,
          ...)
{
    /* The suppression note and the message share one buffer so that one
     * write() puts both lines out together. */
    char buf[LOG_LINE_MAX * 2];
    size_t len = 0, note_len = 0, note_sys = 0, msg_sys;
    va_list args;

    if (level <= LOG_L_OFF || level > LOG_L_DBG) {
        return;
    }
    if (rl_suppressed) {
        uint32_t n = rl_suppressed;

        rl_suppressed = 0;
        format_line_v(buf, LOG_LINE_MAX, &note_len, &note_sys, m, level,
                      "%" PRIu32 " messages like the next were suppressed "
                      "by rate limiting",
                      n);
        len = note_len;
    }
    va_start(args, fmt);
    len += format_line(buf + len, LOG_LINE_MAX, m, level, &msg_sys, fmt, args);
    va_end(args);

    pthread_mutex_lock(&log_mutex);
    if (file_fd >= 0) {
        write_all(file_fd, buf, len);
    }
    if (stderr_on) {
        write_all(STDERR_FILENO, buf, len);
    }
    if (syslog_ident) {
        int prio = syslog_priority(level);

        if (note_len) {
            syslog(prio, "%.*s", (int)(note_len - note_sys - 1),
                   buf + note_sys);
        }
        syslog(prio, "%.*s", (int)(len - note_len - msg_sys - 1),
               buf + note_len + msg_sys);
    }
    pthread_mutex_unlock(&log_mutex);
}

static uint64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Generic cell rate algorithm: 'tokens_ms' holds the time at which the
 * bucket would be full again.  Each message pushes it one interval into
 * the future; a message is allowed while that time is at most 'burst - 1'
 * intervals ahead of now.  One word of state lets concurrent callers
 * update it with compare-and-swap instead of a lock; a zeroed limiter
 * starts full.  On success '*dropped' is the count suppressed since the
 * previous allowed message. */
static bool
rl_take(struct log_rl *rl, uint64_t now_ms, uint32_t *dropped)
{
    uint64_t interval =
        rl->rate ? (60000 + rl->rate - 1) / rl->rate : UINT64_C(1) << 40;
    uint64_t burst = rl->burst ? rl->burst : 1;
    uint64_t slack = (burst - 1) * interval;
    uint64_t tat = __atomic_load_n(&rl->tokens_ms, __ATOMIC_RELAXED);

    for (;;) {
        uint64_t start = tat > now_ms ? tat : now_ms;

        if (start - now_ms > slack) {
            __atomic_add_fetch(&rl->dropped, 1, __ATOMIC_RELAXED);
            return false;
        }
        if (__atomic_compare_exchange_n(&rl->tokens_ms, &tat, start + interval,
                                        true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
            break;
        }
    }
    *dropped = __atomic_exchange_n(&rl->dropped, 0, __ATOMIC_RELAXED);
    return true;
}

bool
log_rl_allow_at(struct log_rl *rl, uint64_t now_ms)
{
    uint32_t dropped;

    return rl_take(rl, now_ms, &dropped);
}

bool
log_rl_allow(struct log_rl *rl)
{
    uint32_t dropped;

    if (!rl_take(rl, monotonic_ms(), &dropped)) {
        return false;
    }
    /* The log_write() that LOG_RL() makes next prints the note. */
    rl_suppressed += dropped;
    return true;
}
