// C half of package cshim. See shim.h and the package documentation for the
// ownership rules; INTERNALS.md in the parent directory for the threading.

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "_cgo_export.h"

// The wire format of xpc/codec.go (RemoteXPC object serialization).
#define W_MAGIC 0x42133742u
#define W_VERSION 5u
#define T_NULL 0x1000u
#define T_BOOL 0x2000u
#define T_INT64 0x3000u
#define T_UINT64 0x4000u
#define T_DOUBLE 0x5000u
#define T_DATE 0x7000u
#define T_DATA 0x8000u
#define T_STRING 0x9000u
#define T_UUID 0xa000u
#define T_FD 0xb000u
#define T_ARRAY 0xe000u
#define T_DICT 0xf000u
#define T_ENDPOINT 0x12000u

#define MAX_DEPTH 64        // xpc.MaxDepth
#define MAX_ATTACHMENTS 256 // xpc.maxAttachments

void goxpc_retain(xpc_object_t o) { xpc_retain(o); }
void goxpc_release(xpc_object_t o) { xpc_release(o); }

// ---- walking a received object into the wire format ----

static int w_fail(goxpc_payload *p, const char *why) {
	if (p->err[0] == 0) {
		snprintf(p->err, sizeof p->err, "%s", why);
	}
	return 0;
}

static int w_reserve(goxpc_payload *p, size_t n) {
	if (n > p->max || p->len > p->max - n) {
		char why[96];
		p->too_large = 1;
		snprintf(why, sizeof why, "message larger than %zu bytes", p->max);
		return w_fail(p, why);
	}
	if (p->len + n <= p->cap) {
		return 1;
	}
	size_t c = p->cap ? p->cap : 512;
	while (c < p->len + n) {
		c *= 2;
	}
	uint8_t *b = realloc(p->buf, c);
	if (b == NULL) {
		return w_fail(p, "out of memory");
	}
	p->buf = b;
	p->cap = c;
	return 1;
}

static int w_u32(goxpc_payload *p, uint32_t v) {
	if (!w_reserve(p, 4)) {
		return 0;
	}
	uint8_t *b = p->buf + p->len;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
	p->len += 4;
	return 1;
}

static int w_u64(goxpc_payload *p, uint64_t v) {
	return w_u32(p, (uint32_t)v) && w_u32(p, (uint32_t)(v >> 32));
}

// w_bytes appends n bytes and pads to 4.
static int w_bytes(goxpc_payload *p, const void *src, size_t n) {
	size_t padded = (n + 3) & ~(size_t)3;
	if (padded < n || !w_reserve(p, padded)) {
		return w_fail(p, "object too large");
	}
	if (n > 0) {
		memcpy(p->buf + p->len, src, n);
	}
	memset(p->buf + p->len + n, 0, padded - n);
	p->len += padded;
	return 1;
}

// w_cstr appends s, its NUL and padding.
static int w_cstr(goxpc_payload *p, const char *s, size_t n) {
	size_t padded = (n + 1 + 3) & ~(size_t)3;
	if (!w_reserve(p, padded)) {
		return 0;
	}
	memcpy(p->buf + p->len, s, n);
	memset(p->buf + p->len + n, 0, padded - n);
	p->len += padded;
	return 1;
}

static int walk_value(goxpc_payload *p, xpc_object_t v, int depth);

// container writes tag, a length placeholder and count; returns the offset
// of the length word.
static int w_begin(goxpc_payload *p, uint32_t tag, size_t count, size_t *at) {
	if (count > UINT32_MAX) {
		return w_fail(p, "container has too many elements");
	}
	if (!w_u32(p, tag)) {
		return 0;
	}
	*at = p->len;
	return w_u32(p, 0) && w_u32(p, (uint32_t)count);
}

static int w_end(goxpc_payload *p, size_t at) {
	size_t n = p->len - at - 4;
	if (n > UINT32_MAX) {
		return w_fail(p, "container larger than 4 GiB");
	}
	uint8_t *b = p->buf + at;
	b[0] = (uint8_t)n;
	b[1] = (uint8_t)(n >> 8);
	b[2] = (uint8_t)(n >> 16);
	b[3] = (uint8_t)(n >> 24);
	return 1;
}

static int walk_dict(goxpc_payload *p, xpc_object_t v, int depth) {
	if (depth > MAX_DEPTH) {
		return w_fail(p, "nesting deeper than 64");
	}
	size_t at;
	if (!w_begin(p, T_DICT, xpc_dictionary_get_count(v), &at)) {
		return 0;
	}
	__block int ok = 1;
	xpc_dictionary_apply(v, ^bool(const char *key, xpc_object_t val) {
		ok = w_cstr(p, key, strlen(key)) && walk_value(p, val, depth + 1);
		return ok;
	});
	return ok && w_end(p, at);
}

static int walk_array(goxpc_payload *p, xpc_object_t v, int depth) {
	if (depth > MAX_DEPTH) {
		return w_fail(p, "nesting deeper than 64");
	}
	size_t at;
	if (!w_begin(p, T_ARRAY, xpc_array_get_count(v), &at)) {
		return 0;
	}
	__block int ok = 1;
	xpc_array_apply(v, ^bool(size_t i, xpc_object_t val) {
		(void)i;
		ok = walk_value(p, val, depth + 1);
		return ok;
	});
	return ok && w_end(p, at);
}

static int attachments_full(goxpc_payload *p) {
	return p->nfds + p->neps >= MAX_ATTACHMENTS;
}

static int walk_value(goxpc_payload *p, xpc_object_t v, int depth) {
	xpc_type_t t = xpc_get_type(v);
	if (t == XPC_TYPE_DICTIONARY) {
		return walk_dict(p, v, depth);
	}
	if (t == XPC_TYPE_STRING) {
		size_t n = xpc_string_get_length(v);
		const char *s = xpc_string_get_string_ptr(v);
		if (s == NULL || n >= UINT32_MAX) {
			return w_fail(p, "unreadable or oversized string");
		}
		return w_u32(p, T_STRING) && w_u32(p, (uint32_t)(n + 1)) && w_cstr(p, s, n);
	}
	if (t == XPC_TYPE_INT64) {
		return w_u32(p, T_INT64) && w_u64(p, (uint64_t)xpc_int64_get_value(v));
	}
	if (t == XPC_TYPE_UINT64) {
		return w_u32(p, T_UINT64) && w_u64(p, xpc_uint64_get_value(v));
	}
	if (t == XPC_TYPE_BOOL) {
		return w_u32(p, T_BOOL) && w_u32(p, xpc_bool_get_value(v) ? 1 : 0);
	}
	if (t == XPC_TYPE_DOUBLE) {
		double d = xpc_double_get_value(v);
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		return w_u32(p, T_DOUBLE) && w_u64(p, bits);
	}
	if (t == XPC_TYPE_DATE) {
		return w_u32(p, T_DATE) && w_u64(p, (uint64_t)xpc_date_get_value(v));
	}
	if (t == XPC_TYPE_DATA) {
		size_t n = xpc_data_get_length(v);
		if (n > UINT32_MAX) {
			return w_fail(p, "data larger than 4 GiB");
		}
		const void *b = xpc_data_get_bytes_ptr(v);
		if (b == NULL && n > 0) {
			return w_fail(p, "unreadable data object");
		}
		return w_u32(p, T_DATA) && w_u32(p, (uint32_t)n) && w_bytes(p, b, n);
	}
	if (t == XPC_TYPE_UUID) {
		const uint8_t *u = xpc_uuid_get_bytes(v);
		if (u == NULL) {
			return w_fail(p, "unreadable uuid");
		}
		return w_u32(p, T_UUID) && w_bytes(p, u, 16);
	}
	if (t == XPC_TYPE_ARRAY) {
		return walk_array(p, v, depth);
	}
	if (t == XPC_TYPE_NULL) {
		return w_u32(p, T_NULL);
	}
	if (t == XPC_TYPE_FD) {
		if (attachments_full(p)) {
			return w_fail(p, "more than 256 file descriptors and endpoints");
		}
		if (p->nfds == p->capfds) {
			size_t c = p->capfds ? p->capfds * 2 : 4;
			int *f = realloc(p->fds, c * sizeof *f);
			if (f == NULL) {
				return w_fail(p, "out of memory");
			}
			p->fds = f;
			p->capfds = c;
		}
		int fd = xpc_fd_dup(v);
		if (fd < 0) {
			return w_fail(p, "xpc_fd_dup failed");
		}
		// Count it before writing anything that can fail, so that a failed
		// walk closes it.
		uint32_t i = (uint32_t)p->nfds;
		p->fds[p->nfds++] = fd;
		return w_u32(p, T_FD) && w_u32(p, i);
	}
	if (t == XPC_TYPE_ENDPOINT) {
		if (attachments_full(p)) {
			return w_fail(p, "more than 256 file descriptors and endpoints");
		}
		if (p->neps == p->capeps) {
			size_t c = p->capeps ? p->capeps * 2 : 4;
			xpc_object_t *e = realloc(p->eps, c * sizeof *e);
			if (e == NULL) {
				return w_fail(p, "out of memory");
			}
			p->eps = e;
			p->capeps = c;
		}
		// Counted before the writes that can fail, so a failed walk
		// releases it.
		uint32_t i = (uint32_t)p->neps;
		p->eps[p->neps++] = xpc_retain(v);
		return w_u32(p, T_ENDPOINT) && w_u32(p, i);
	}
	// Shared memory, Mach ports, activities, connections, errors...: the
	// wire format has no such type. They arrive as null; Go logs a warning.
	if (p->nunsupported++ == 0) {
		const char *name = xpc_type_get_name(t);
		snprintf(p->unsupported, sizeof p->unsupported, "%s", name ? name : "unknown");
	}
	return w_u32(p, T_NULL);
}

int goxpc_walk(xpc_object_t obj, goxpc_payload *p) {
	p->err[0] = 0;
	if (xpc_get_type(obj) != XPC_TYPE_DICTIONARY) {
		w_fail(p, "not a dictionary");
	} else if (w_u32(p, W_MAGIC) && w_u32(p, W_VERSION) && walk_dict(p, obj, 1)) {
		return 1;
	}
	// Failed: give back what was collected, so the caller owns nothing.
	for (size_t i = 0; i < p->nfds; i++) {
		close(p->fds[i]);
	}
	for (size_t i = 0; i < p->neps; i++) {
		xpc_release(p->eps[i]);
	}
	p->nfds = p->neps = 0;
	p->len = 0;
	if (p->err[0] == 0) {
		w_fail(p, "conversion failed");
	}
	return 0;
}

void goxpc_payload_free(goxpc_payload *p) {
	free(p->buf);
	free(p->fds);
	free(p->eps);
	p->buf = NULL;
	p->fds = NULL;
	p->eps = NULL;
	p->len = p->cap = p->nfds = p->capfds = p->neps = p->capeps = 0;
}

// ---- building an object tree from the wire format ----

typedef struct {
	const uint8_t *b;
	size_t len, off;
	const int *fds;
	size_t nfds;
	xpc_object_t const *eps;
	size_t neps;
	char *err;
	size_t errlen;
	// fdused marks the descriptors a value took: like the Go decoder, each
	// may be referenced once (two xpc fd objects must not share one).
	uint8_t fdused[MAX_ATTACHMENTS];
} reader;

static int r_fail(reader *r, const char *why) {
	if (r->errlen > 0 && r->err[0] == 0) {
		snprintf(r->err, r->errlen, "byte %zu: %s", r->off, why);
	}
	return 0;
}

static int r_u32(reader *r, uint32_t *v) {
	if (r->len - r->off < 4) {
		return r_fail(r, "truncated");
	}
	const uint8_t *b = r->b + r->off;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	r->off += 4;
	return 1;
}

static int r_u64(reader *r, uint64_t *v) {
	uint32_t lo, hi;
	if (!r_u32(r, &lo) || !r_u32(r, &hi)) {
		return 0;
	}
	*v = (uint64_t)hi << 32 | lo;
	return 1;
}

// r_bytes returns the next n bytes and skips their padding.
static int r_bytes(reader *r, size_t n, const uint8_t **out) {
	if (n > r->len - r->off) {
		return r_fail(r, "length runs past the end");
	}
	*out = r->b + r->off;
	r->off += n;
	size_t pad = (4 - r->off % 4) % 4;
	if (pad > r->len - r->off) {
		return r_fail(r, "truncated padding");
	}
	r->off += pad;
	return 1;
}

static xpc_object_t r_value(reader *r, int depth);

// r_container reads a container's length and count and checks them.
static int r_container(reader *r, int depth, size_t *end, uint32_t *count) {
	if (depth > MAX_DEPTH) {
		return r_fail(r, "nesting deeper than 64");
	}
	uint32_t n;
	if (!r_u32(r, &n)) {
		return 0;
	}
	if (n < 4 || n > r->len - r->off) {
		return r_fail(r, "container length does not fit");
	}
	*end = r->off + n;
	if (!r_u32(r, count)) {
		return 0;
	}
	if ((uint64_t)*count * 4 > *end - r->off) {
		return r_fail(r, "container count does not fit");
	}
	return 1;
}

// r_dict_into reads a dictionary (after its tag) into d.
static int r_dict_into(reader *r, xpc_object_t d, int depth) {
	size_t end;
	uint32_t count;
	if (!r_container(r, depth, &end, &count)) {
		return 0;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (r->off >= end) {
			return r_fail(r, "dictionary entries run past its length");
		}
		const uint8_t *k = r->b + r->off;
		const uint8_t *nul = memchr(k, 0, end - r->off);
		if (nul == NULL) {
			return r_fail(r, "unterminated key");
		}
		const uint8_t *skip;
		if (!r_bytes(r, (size_t)(nul - k) + 1, &skip)) {
			return 0;
		}
		if (xpc_dictionary_get_value(d, (const char *)k) != NULL) {
			return r_fail(r, "duplicate key");
		}
		xpc_object_t v = r_value(r, depth);
		if (v == NULL) {
			return 0;
		}
		xpc_dictionary_set_value(d, (const char *)k, v);
		xpc_release(v);
	}
	if (r->off != end) {
		return r_fail(r, "dictionary length disagrees with its contents");
	}
	return 1;
}

static xpc_object_t r_array(reader *r, int depth) {
	size_t end;
	uint32_t count;
	if (!r_container(r, depth, &end, &count)) {
		return NULL;
	}
	xpc_object_t a = xpc_array_create(NULL, 0);
	for (uint32_t i = 0; i < count; i++) {
		xpc_object_t v = r_value(r, depth);
		if (v == NULL) {
			xpc_release(a);
			return NULL;
		}
		xpc_array_append_value(a, v);
		xpc_release(v);
	}
	if (r->off != end) {
		xpc_release(a);
		r_fail(r, "array length disagrees with its contents");
		return NULL;
	}
	return a;
}

// r_value reads one object and returns it retained (+1), or NULL.
static xpc_object_t r_value(reader *r, int depth) {
	uint32_t tag, u;
	uint64_t q;
	const uint8_t *b;
	if (!r_u32(r, &tag)) {
		return NULL;
	}
	switch (tag) {
	case T_NULL:
		return xpc_null_create();
	case T_BOOL:
		if (!r_u32(r, &u)) {
			return NULL;
		}
		if (u > 1) {
			r_fail(r, "bool value not 0 or 1");
			return NULL;
		}
		return xpc_bool_create(u == 1);
	case T_INT64:
		return r_u64(r, &q) ? xpc_int64_create((int64_t)q) : NULL;
	case T_UINT64:
		return r_u64(r, &q) ? xpc_uint64_create(q) : NULL;
	case T_DOUBLE: {
		if (!r_u64(r, &q)) {
			return NULL;
		}
		double d;
		memcpy(&d, &q, sizeof d);
		return xpc_double_create(d);
	}
	case T_DATE:
		return r_u64(r, &q) ? xpc_date_create((int64_t)q) : NULL;
	case T_DATA:
		if (!r_u32(r, &u) || !r_bytes(r, u, &b)) {
			return NULL;
		}
		return xpc_data_create(b, u);
	case T_STRING:
		if (!r_u32(r, &u)) {
			return NULL;
		}
		if (u == 0) {
			r_fail(r, "string length 0");
			return NULL;
		}
		if (!r_bytes(r, u, &b)) {
			return NULL;
		}
		if (b[u - 1] != 0 || memchr(b, 0, u - 1) != NULL) {
			r_fail(r, "string not NUL-terminated or contains NUL");
			return NULL;
		}
		return xpc_string_create((const char *)b);
	case T_UUID:
		if (!r_bytes(r, 16, &b)) {
			return NULL;
		}
		return xpc_uuid_create(b);
	case T_FD: {
		if (!r_u32(r, &u)) {
			return NULL;
		}
		if (u >= r->nfds || r->fdused[u]) {
			r_fail(r, "file descriptor not attached or used twice");
			return NULL;
		}
		r->fdused[u] = 1;
		xpc_object_t f = xpc_fd_create(r->fds[u]);
		if (f == NULL) {
			r_fail(r, "xpc_fd_create failed (closed file?)");
		}
		return f;
	}
	case T_ENDPOINT:
		if (!r_u32(r, &u)) {
			return NULL;
		}
		if (u >= r->neps || r->eps[u] == NULL) {
			r_fail(r, "endpoint not attached");
			return NULL;
		}
		return xpc_retain(r->eps[u]);
	case T_ARRAY:
		return r_array(r, depth + 1);
	case T_DICT: {
		xpc_object_t d = xpc_dictionary_create(NULL, NULL, 0);
		if (!r_dict_into(r, d, depth + 1)) {
			xpc_release(d);
			return NULL;
		}
		return d;
	}
	}
	r->off -= 4;
	r_fail(r, "unsupported type");
	return NULL;
}

// r_message reads a whole message into the dictionary d.
static int r_message(reader *r, xpc_object_t d) {
	uint32_t magic, version, tag;
	if (!r_u32(r, &magic) || !r_u32(r, &version) || !r_u32(r, &tag)) {
		return 0;
	}
	if (magic != W_MAGIC || version != W_VERSION) {
		return r_fail(r, "bad magic or version");
	}
	if (tag != T_DICT) {
		return r_fail(r, "root is not a dictionary");
	}
	if (!r_dict_into(r, d, 1)) {
		return 0;
	}
	if (r->off != r->len) {
		return r_fail(r, "trailing bytes");
	}
	return 1;
}

static reader mkreader(const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, char *err, size_t errlen) {
	reader r = {buf, len, 0, fds, nfds, eps, neps, err, errlen, {0}};
	if (errlen > 0) {
		err[0] = 0;
	}
	return r;
}

xpc_object_t goxpc_build(const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, char *err, size_t errlen) {
	reader r = mkreader(buf, len, fds, nfds, eps, neps, err, errlen);
	if (nfds > MAX_ATTACHMENTS || neps > MAX_ATTACHMENTS || nfds + neps > MAX_ATTACHMENTS) {
		r_fail(&r, "more than 256 file descriptors and endpoints");
		return NULL;
	}
	xpc_object_t d = xpc_dictionary_create(NULL, NULL, 0);
	if (!r_message(&r, d)) {
		xpc_release(d);
		return NULL;
	}
	return d;
}

// ---- connections ----

// queue_key marks each connection's queue with the connection's handle, so
// Go can tell whether it runs on that queue (and must not wait for it).
static const char queue_key = 0;

xpc_object_t goxpc_conn_mach(const char *name, int listener, int privileged) {
	uint64_t flags = 0;
	if (listener) {
		flags |= XPC_CONNECTION_MACH_SERVICE_LISTENER;
	}
	if (privileged) {
		flags |= XPC_CONNECTION_MACH_SERVICE_PRIVILEGED;
	}
	return xpc_connection_create_mach_service(name, NULL, flags);
}

xpc_object_t goxpc_conn_anonymous(void) { return xpc_connection_create(NULL, NULL); }

xpc_object_t goxpc_conn_from_endpoint(xpc_object_t ep) {
	return xpc_connection_create_from_endpoint((xpc_endpoint_t)ep);
}

xpc_object_t goxpc_endpoint_create(xpc_object_t conn) {
	return xpc_endpoint_create((xpc_connection_t)conn);
}

int goxpc_set_requirement(xpc_object_t conn, const char *req) {
	if (__builtin_available(macOS 12.0, *)) {
		return xpc_connection_set_peer_code_signing_requirement((xpc_connection_t)conn, req);
	}
	return ENOTSUP;
}

int goxpc_error_kind(xpc_object_t ev) {
	if (ev == XPC_ERROR_CONNECTION_INTERRUPTED) {
		return GOXPC_ERR_INTERRUPTED;
	}
	if (ev == XPC_ERROR_CONNECTION_INVALID) {
		return GOXPC_ERR_INVALID;
	}
	if (ev == XPC_ERROR_TERMINATION_IMMINENT) {
		return GOXPC_ERR_TERMINATION;
	}
	if (__builtin_available(macOS 12.0, *)) {
		if (ev == XPC_ERROR_PEER_CODE_SIGNING_REQUIREMENT) {
			return GOXPC_ERR_PEER_REQUIREMENT;
		}
	}
	return GOXPC_ERR_OTHER;
}

static void on_event(uintptr_t h, xpc_object_t ev, size_t maxsize) {
	xpc_type_t t = xpc_get_type(ev);
	if (t == XPC_TYPE_DICTIONARY) {
		goxpc_payload p;
		memset(&p, 0, sizeof p);
		p.max = maxsize;
		goxpc_walk(ev, &p);
		xpc_object_t reply = xpc_dictionary_create_reply(ev);
		// Go owns one reference to the message (Message.UseObject) and the
		// reply, and everything in p's arrays; we free only the arrays.
		goxpcMessage(h, xpc_retain(ev), reply, &p);
		goxpc_payload_free(&p);
	} else if (t == XPC_TYPE_CONNECTION) {
		goxpcPeer(h, xpc_retain(ev));
	} else if (t == XPC_TYPE_ERROR) {
		const char *d = xpc_dictionary_get_string(ev, XPC_ERROR_KEY_DESCRIPTION);
		goxpcError(h, goxpc_error_kind(ev), (char *)d);
	} else {
		goxpcError(h, GOXPC_ERR_OTHER, (char *)xpc_type_get_name(t));
	}
}

void goxpc_activate(xpc_object_t conn, uintptr_t h, size_t maxsize) {
	xpc_connection_t c = (xpc_connection_t)conn;
	// One serial queue per connection: events of a connection are handled
	// in order, different connections concurrently.
	dispatch_queue_t q = dispatch_queue_create("com.github.goxpc.connection", DISPATCH_QUEUE_SERIAL);
	dispatch_queue_set_specific(q, &queue_key, (void *)h, NULL);
	xpc_connection_set_target_queue(c, q);
	dispatch_release(q); // the connection keeps its target queue alive
	xpc_connection_set_event_handler(c, ^(xpc_object_t ev) {
		on_event(h, ev, maxsize);
	});
	xpc_connection_activate(c);
}

int goxpc_on_queue(uintptr_t h) { return dispatch_get_specific(&queue_key) == (void *)h; }

void goxpc_cancel(xpc_object_t conn) { xpc_connection_cancel((xpc_connection_t)conn); }

// goxpc_discard ends a connection that was never activated: releasing an
// inactive connection is a programming error in libxpc.
void goxpc_discard(xpc_object_t conn) {
	xpc_connection_t c = (xpc_connection_t)conn;
	xpc_connection_set_event_handler(c, ^(xpc_object_t ev) {
		(void)ev;
	});
	xpc_connection_activate(c);
	xpc_connection_cancel(c);
}

// goxpc_reject serves a peer that the Go side refused: every request gets a
// reply whose only key is key (the reason), then the connection is
// cancelled; a peer that sends no request is cancelled after 2 seconds. The
// handler block owns one reference until the final event; the timer block
// and each barrier block own one more.
void goxpc_reject(xpc_object_t conn, const char *key, const char *reason) {
	xpc_connection_t c = (xpc_connection_t)conn;
	char *k = strdup(key);
	char *why = strdup(reason);
	xpc_retain(c);
	xpc_connection_set_event_handler(c, ^(xpc_object_t ev) {
		xpc_type_t t = xpc_get_type(ev);
		if (t == XPC_TYPE_DICTIONARY) {
			xpc_object_t reply = xpc_dictionary_create_reply(ev);
			if (reply != NULL) {
				if (k != NULL && why != NULL) {
					xpc_dictionary_set_string(reply, k, why);
				}
				xpc_connection_send_message(c, reply);
				xpc_release(reply);
				// The barrier may run after the final event (its order on
				// the queue is not guaranteed), when the handler's reference
				// is gone: it holds one of its own.
				xpc_retain(c);
				xpc_connection_send_barrier(c, ^{
					xpc_connection_cancel(c);
					xpc_release(c);
				});
			}
		} else if (ev == XPC_ERROR_CONNECTION_INVALID) {
			free(k);
			free(why);
			xpc_release(c);
		}
	});
	xpc_connection_activate(c);
	xpc_retain(c);
	dispatch_after(dispatch_time(DISPATCH_TIME_NOW, 2 * (int64_t)NSEC_PER_SEC),
		dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0), ^{
			xpc_connection_cancel(c);
			xpc_release(c);
		});
}

void goxpc_peer(xpc_object_t conn, int *pid, int *uid, int *gid, int *asid) {
	xpc_connection_t c = (xpc_connection_t)conn;
	*pid = (int)xpc_connection_get_pid(c);
	*uid = (int)xpc_connection_get_euid(c);
	*gid = (int)xpc_connection_get_egid(c);
	*asid = (int)xpc_connection_get_asid(c);
}

int goxpc_parent_pid(void) { return (int)getppid(); }

// ---- sending ----

int goxpc_send(xpc_object_t conn, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, char *err, size_t errlen) {
	xpc_object_t msg = goxpc_build(buf, len, fds, nfds, eps, neps, err, errlen);
	if (msg == NULL) {
		return -1;
	}
	xpc_connection_send_message((xpc_connection_t)conn, msg);
	xpc_release(msg);
	return 0;
}

static void on_reply(uintptr_t h, xpc_object_t reply, size_t maxsize) {
	xpc_type_t t = xpc_get_type(reply);
	if (t == XPC_TYPE_DICTIONARY) {
		goxpc_payload p;
		memset(&p, 0, sizeof p);
		p.max = maxsize;
		goxpc_walk(reply, &p);
		goxpcReply(h, GOXPC_ERR_NONE, NULL, &p);
		goxpc_payload_free(&p);
	} else if (t == XPC_TYPE_ERROR) {
		const char *d = xpc_dictionary_get_string(reply, XPC_ERROR_KEY_DESCRIPTION);
		goxpcReply(h, goxpc_error_kind(reply), (char *)d, NULL);
	} else {
		goxpcReply(h, GOXPC_ERR_OTHER, (char *)xpc_type_get_name(t), NULL);
	}
}

// goxpc_send_request sends a message whose reply block calls Go exactly
// once with handle h. Replies go to a global queue, not the connection's,
// so a handler blocked on the connection's queue never delays a reply.
int goxpc_send_request(xpc_object_t conn, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, uintptr_t h, size_t maxsize, char *err, size_t errlen) {
	xpc_object_t msg = goxpc_build(buf, len, fds, nfds, eps, neps, err, errlen);
	if (msg == NULL) {
		return -1;
	}
	xpc_connection_send_message_with_reply((xpc_connection_t)conn, msg,
		dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0), ^(xpc_object_t reply) {
			on_reply(h, reply, maxsize);
		});
	xpc_release(msg);
	return 0;
}

int goxpc_send_reply(xpc_object_t conn, xpc_object_t reply, const uint8_t *buf, size_t len,
	const int *fds, size_t nfds, xpc_object_t const *eps, size_t neps, char *err, size_t errlen) {
	// Build aside and copy, so a failure leaves reply untouched. The
	// caller's reference to reply is consumed either way.
	xpc_object_t body = goxpc_build(buf, len, fds, nfds, eps, neps, err, errlen);
	if (body == NULL) {
		xpc_release(reply);
		return -1;
	}
	xpc_dictionary_apply(body, ^bool(const char *key, xpc_object_t val) {
		xpc_dictionary_set_value(reply, key, val);
		return true;
	});
	xpc_release(body);
	xpc_connection_send_message((xpc_connection_t)conn, reply);
	xpc_release(reply);
	return 0;
}
