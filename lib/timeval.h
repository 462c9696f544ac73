/* Monotonic clock readings in milliseconds.  Flow 'used' times, idle
 * expiry and the daemons' timers all use CLOCK_MONOTONIC, so that they
 * compare with each other and with what the kernel datapath reports. */
#ifndef HVS_TIMEVAL_H
#define HVS_TIMEVAL_H 1

#include <stdint.h>
#include <time.h>

static inline uint64_t
time_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* The same clock at tick resolution (a few ms), cheaper: for the
 * forwarding fast path, which reads it once per batch. */
static inline uint64_t
time_msec_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

#endif /* HVS_TIMEVAL_H */
