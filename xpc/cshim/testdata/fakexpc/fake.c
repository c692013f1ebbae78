// A fake libxpc for checking the C wire codec of cshim on Linux (run.sh):
// reference-counted objects with insertion-ordered dictionaries and a live
// count, enough for goxpc_build and goxpc_walk. Connection functions abort.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include "xpc/xpc.h"
void *_NSConcreteStackBlock[32];
void *_NSConcreteGlobalBlock[32];
void _Block_object_assign(void *a, const void *b, int f) {}
void _Block_object_dispose(const void *a, int f) {}
const struct xtype T_dict={"dictionary"}, T_string={"string"}, T_int64={"int64"}, T_uint64={"uint64"}, T_bool={"bool"}, T_double={"double"}, T_date={"date"}, T_data={"data"}, T_uuid={"uuid"}, T_array={"array"}, T_null={"null"}, T_fd={"fd"}, T_endpoint={"endpoint"}, T_connection={"connection"}, T_error={"error"}, T_shmem={"shmem"};
char E_int, E_inv, E_term, E_req;
long live_objs;
typedef struct obj {
	const struct xtype *t; int rc;
	bool b; int64_t i; uint64_t u; double d;
	uint8_t *p; size_t n; char *s; uint8_t uuid[16]; int fd;
	char **keys; struct obj **vals; size_t cnt, cap;
} obj;
static obj *mk(const struct xtype *t) { obj *o = calloc(1, sizeof *o); o->t = t; o->rc = 1; live_objs++; return o; }
xpc_object_t fake_new(const struct xtype *t) { return mk(t); }
xpc_type_t xpc_get_type(xpc_object_t o) { return ((obj *)o)->t; }
const char *xpc_type_get_name(xpc_type_t t) { return t->name; }
xpc_object_t xpc_retain(xpc_object_t o) { ((obj *)o)->rc++; return o; }
void xpc_release(xpc_object_t x) {
	obj *o = x;
	if (--o->rc > 0) return;
	if (o->rc < 0) { fprintf(stderr, "over-release\n"); abort(); }
	for (size_t i = 0; i < o->cnt; i++) { if (o->keys) free(o->keys[i]); xpc_release(o->vals[i]); }
	free(o->keys); free(o->vals); free(o->p); free(o->s);
	if (o->t == &T_fd) close(o->fd);
	free(o); live_objs--;
}
xpc_object_t xpc_null_create(void) { return mk(&T_null); }
xpc_object_t xpc_bool_create(bool b) { obj *o = mk(&T_bool); o->b = b; return o; }
bool xpc_bool_get_value(xpc_object_t o) { return ((obj *)o)->b; }
xpc_object_t xpc_int64_create(int64_t v) { obj *o = mk(&T_int64); o->i = v; return o; }
int64_t xpc_int64_get_value(xpc_object_t o) { return ((obj *)o)->i; }
xpc_object_t xpc_uint64_create(uint64_t v) { obj *o = mk(&T_uint64); o->u = v; return o; }
uint64_t xpc_uint64_get_value(xpc_object_t o) { return ((obj *)o)->u; }
xpc_object_t xpc_double_create(double v) { obj *o = mk(&T_double); o->d = v; return o; }
double xpc_double_get_value(xpc_object_t o) { return ((obj *)o)->d; }
xpc_object_t xpc_date_create(int64_t v) { obj *o = mk(&T_date); o->i = v; return o; }
int64_t xpc_date_get_value(xpc_object_t o) { return ((obj *)o)->i; }
xpc_object_t xpc_data_create(const void *b, size_t n) { obj *o = mk(&T_data); o->p = malloc(n ? n : 1); memcpy(o->p, b, n); o->n = n; return o; }
size_t xpc_data_get_length(xpc_object_t o) { return ((obj *)o)->n; }
const void *xpc_data_get_bytes_ptr(xpc_object_t o) { return ((obj *)o)->n ? ((obj *)o)->p : NULL; }
xpc_object_t xpc_string_create(const char *s) { obj *o = mk(&T_string); o->s = strdup(s); return o; }
size_t xpc_string_get_length(xpc_object_t o) { return strlen(((obj *)o)->s); }
const char *xpc_string_get_string_ptr(xpc_object_t o) { return ((obj *)o)->s; }
xpc_object_t xpc_uuid_create(const unsigned char *u) { obj *o = mk(&T_uuid); memcpy(o->uuid, u, 16); return o; }
const uint8_t *xpc_uuid_get_bytes(xpc_object_t o) { return ((obj *)o)->uuid; }
xpc_object_t xpc_fd_create(int fd) { int d = dup(fd); if (d < 0) return NULL; obj *o = mk(&T_fd); o->fd = d; return o; }
int xpc_fd_dup(xpc_object_t o) { return dup(((obj *)o)->fd); }
static void push(obj *o, char *k, obj *v) {
	if (o->cnt == o->cap) { o->cap = o->cap ? o->cap * 2 : 4; o->vals = realloc(o->vals, o->cap * sizeof *o->vals); if (o->t == &T_dict) o->keys = realloc(o->keys, o->cap * sizeof *o->keys); }
	if (k) o->keys[o->cnt] = k;
	o->vals[o->cnt++] = xpc_retain(v);
}
xpc_object_t xpc_array_create(xpc_object_t *v, size_t n) { return mk(&T_array); }
void xpc_array_append_value(xpc_object_t a, xpc_object_t v) { push(a, NULL, v); }
size_t xpc_array_get_count(xpc_object_t a) { return ((obj *)a)->cnt; }
bool xpc_array_apply(xpc_object_t x, xpc_array_applier_t f) { obj *a = x; for (size_t i = 0; i < a->cnt; i++) if (!f(i, a->vals[i])) return false; return true; }
xpc_object_t xpc_dictionary_create(const char *const *k, xpc_object_t *v, size_t n) { return mk(&T_dict); }
xpc_object_t xpc_dictionary_get_value(xpc_object_t x, const char *k) { obj *d = x; for (size_t i = 0; i < d->cnt; i++) if (!strcmp(d->keys[i], k)) return d->vals[i]; return NULL; }
void xpc_dictionary_set_value(xpc_object_t x, const char *k, xpc_object_t v) {
	obj *d = x;
	for (size_t i = 0; i < d->cnt; i++) if (!strcmp(d->keys[i], k)) { xpc_retain(v); xpc_release(d->vals[i]); d->vals[i] = v; return; }
	push(d, strdup(k), v);
}
size_t xpc_dictionary_get_count(xpc_object_t d) { return ((obj *)d)->cnt; }
bool xpc_dictionary_apply(xpc_object_t x, xpc_dictionary_applier_t f) { obj *d = x; for (size_t i = 0; i < d->cnt; i++) if (!f(d->keys[i], d->vals[i])) return false; return true; }
const char *xpc_dictionary_get_string(xpc_object_t d, const char *k) { return NULL; }
void xpc_dictionary_set_string(xpc_object_t d, const char *k, const char *s) { xpc_object_t v = xpc_string_create(s); xpc_dictionary_set_value(d, k, v); xpc_release(v); }
xpc_object_t xpc_dictionary_create_reply(xpc_object_t d) { return NULL; }
#define STUB(r, name, ...) r name(__VA_ARGS__) { abort(); }
STUB(xpc_connection_t, xpc_connection_create_mach_service, const char *a, dispatch_queue_t b, uint64_t c)
STUB(xpc_connection_t, xpc_connection_create, const char *a, dispatch_queue_t b)
STUB(xpc_connection_t, xpc_connection_create_from_endpoint, xpc_endpoint_t a)
STUB(xpc_endpoint_t, xpc_endpoint_create, xpc_connection_t a)
STUB(int, xpc_connection_set_peer_code_signing_requirement, xpc_connection_t a, const char *b)
STUB(void, xpc_connection_set_target_queue, xpc_connection_t a, dispatch_queue_t b)
STUB(void, xpc_connection_set_event_handler, xpc_connection_t a, xpc_handler_t b)
STUB(void, xpc_connection_activate, xpc_connection_t a)
STUB(void, xpc_connection_cancel, xpc_connection_t a)
STUB(void, xpc_connection_send_message, xpc_connection_t a, xpc_object_t b)
STUB(void, xpc_connection_send_barrier, xpc_connection_t a, dispatch_block_t b)
STUB(void, xpc_connection_send_message_with_reply, xpc_connection_t a, xpc_object_t b, dispatch_queue_t c, xpc_handler_t d)
STUB(int, xpc_connection_get_pid, xpc_connection_t a)
STUB(unsigned, xpc_connection_get_euid, xpc_connection_t a)
STUB(unsigned, xpc_connection_get_egid, xpc_connection_t a)
STUB(int, xpc_connection_get_asid, xpc_connection_t a)
STUB(dispatch_queue_t, dispatch_queue_create, const char *a, void *b)
STUB(void, dispatch_queue_set_specific, dispatch_queue_t a, const void *b, void *c, void *d)
STUB(void *, dispatch_get_specific, const void *a)
STUB(void, dispatch_release, void *a)
STUB(void, dispatch_after, dispatch_time_t a, dispatch_queue_t b, dispatch_block_t c)
STUB(dispatch_time_t, dispatch_time, dispatch_time_t a, int64_t b)
STUB(dispatch_queue_t, dispatch_get_global_queue, long a, unsigned long b)
void goxpcMessage(uintptr_t a, xpc_object_t b, xpc_object_t c, void *d) { abort(); }
void goxpcPeer(uintptr_t a, xpc_object_t b) { abort(); }
void goxpcError(uintptr_t a, int b, char *c) { abort(); }
void goxpcReply(uintptr_t a, int b, char *c, void *d) { abort(); }
