// Declarations of the fake libdispatch used by run.sh (only what shim_darwin.c names).
#pragma once
#include <stdint.h>
typedef struct dq *dispatch_queue_t;
typedef uint64_t dispatch_time_t;
typedef void (^dispatch_block_t)(void);
#define DISPATCH_QUEUE_SERIAL NULL
#define DISPATCH_TIME_NOW 0
#define NSEC_PER_SEC 1000000000ull
#define DISPATCH_QUEUE_PRIORITY_DEFAULT 0
dispatch_queue_t dispatch_queue_create(const char *, void *);
void dispatch_queue_set_specific(dispatch_queue_t, const void *, void *, void *);
void *dispatch_get_specific(const void *);
void dispatch_release(void *);
void dispatch_after(dispatch_time_t, dispatch_queue_t, dispatch_block_t);
dispatch_time_t dispatch_time(dispatch_time_t, int64_t);
dispatch_queue_t dispatch_get_global_queue(long, unsigned long);
