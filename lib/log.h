/* Logging: one line per event, vlog-style
 * "2026-11-25T08:40:01.123Z|00012|MODULE|LEVEL|message" (UTC time, sequence
 * number, LEVEL one of ERR WARN INFO DBG), to a file, syslog and/or stderr,
 * with per-module levels and a rate limiter for the fast path. */
#ifndef HVS_LOG_H
#define HVS_LOG_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_L_OFF, LOG_L_ERR, LOG_L_WARN, LOG_L_INFO, LOG_L_DBG };

/* A module: declare one per source file with LOG_MODULE(name). */
struct log_module {
    const char *name;
    enum log_level level;       /* least severe level that is logged */
    struct log_module *next;
};

#define LOG_MODULE(NAME)                                                \
    static struct log_module log_module_ = { #NAME, LOG_L_INFO, NULL }; \
    __attribute__((constructor)) static void log_register_##NAME(void) \
    { log_register(&log_module_); }

void log_register(struct log_module *);

/* Where lines go.  'file' NULL: none.  Returns 0 or -errno. */
int log_open_file(const char *path);
void log_use_syslog(const char *ident);
void log_use_stderr(bool on);
void log_close(void);
/* Reopens the log file (after logrotate). */
int log_reopen(void);

/* "module:level", "level", "ANY:level" (also the vlog/set syntax
 * "module:dest:level" where dest is ignored).  Returns 0 or -EINVAL. */
int log_set_spec(const char *spec);
/* Writes "module  level" lines to a malloc'd string. */
char *log_list(void);
/* Like log_set_spec(), but on -EINVAL stores a malloc'd reason such as
 * "unknown module 'x'" in '*errmsg' (when not NULL). */
int log_set_spec_msg(const char *spec, char **errmsg);
/* "err", "warn", ... for 'level'; and back (-EINVAL if unknown). */
const char *log_level_name(enum log_level);
int log_level_from_string(const char *);
/* The registered module called 'name' (case-insensitive), or NULL. */
struct log_module *log_find_module(const char *name);

void log_write(const struct log_module *, enum log_level, const char *fmt,
               ...) __attribute__((format(printf, 3, 4)));

#define LOG_AT(LEVEL, ...)                                              \
    do {                                                                \
        if (log_module_.level >= (LEVEL)) {                             \
            log_write(&log_module_, LEVEL, __VA_ARGS__);                \
        }                                                               \
    } while (0)
#define LOG_ERR(...)  LOG_AT(LOG_L_ERR, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_L_WARN, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_L_INFO, __VA_ARGS__)
#define LOG_DBG(...)  LOG_AT(LOG_L_DBG, __VA_ARGS__)

/* Token bucket: at most 'burst' messages, refilled at 'rate' per minute.
 * Use one static instance per call site on the fast path. */
struct log_rl {
    uint32_t rate, burst;
    uint64_t tokens_ms;         /* time-based token state */
    uint32_t dropped;
};
#define LOG_RL_INIT(RATE, BURST) { (RATE), (BURST), 0, 0 }
bool log_rl_allow(struct log_rl *);
/* log_rl_allow() at a given CLOCK_MONOTONIC time in ms, for tests: it
 * resets the dropped count without queueing the "suppressed" note. */
bool log_rl_allow_at(struct log_rl *, uint64_t now_ms);

#define LOG_RL(RL, LEVEL, ...)                                          \
    do {                                                                \
        if (log_module_.level >= (LEVEL) && log_rl_allow(RL)) {         \
            log_write(&log_module_, LEVEL, __VA_ARGS__);                \
        }                                                               \
    } while (0)

#endif /* HVS_LOG_H */
