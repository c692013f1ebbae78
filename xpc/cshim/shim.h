// C half of package cshim: everything that needs blocks or walks xpc object
// trees. Only libSystem headers are used (no Security, no CoreFoundation).
#ifndef GOXPC_SHIM_H
#define GOXPC_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <dispatch/dispatch.h>
#include <xpc/xpc.h>

// Error kinds reported for XPC_TYPE_ERROR events and replies.
enum {
	GOXPC_ERR_NONE = 0,
	GOXPC_ERR_INTERRUPTED = 1,      // XPC_ERROR_CONNECTION_INTERRUPTED
	GOXPC_ERR_INVALID = 2,          // XPC_ERROR_CONNECTION_INVALID
	GOXPC_ERR_TERMINATION = 3,      // XPC_ERROR_TERMINATION_IMMINENT
	GOXPC_ERR_PEER_REQUIREMENT = 4, // XPC_ERROR_PEER_CODE_SIGNING_REQUIREMENT
	GOXPC_ERR_OTHER = 5,            // an error object we do not know
};

// goxpc_payload is a received xpc dictionary flattened into goxpc's wire
// format (xpc/codec.go), with the descriptors (xpc_fd_dup) and endpoints
// (retained) it refers to in side arrays. buf, fds and eps are malloc'ed;
// goxpc_payload_free frees the arrays but never closes or releases their
// contents, which belong to whoever took them.
typedef struct goxpc_payload {
	uint8_t *buf;
	size_t len, cap;
	int *fds;
	size_t nfds, capfds;
	xpc_object_t *eps;
	size_t neps, capeps;
	size_t max;            // largest buf accepted
	int too_large;         // goxpc_walk failed because of max
	size_t nunsupported;   // objects of types the wire format lacks, sent as null
	char unsupported[48];  // the type name of the first of them
	char err[160];         // why goxpc_walk failed
} goxpc_payload;

// Conversion: at most one call each way per message.
xpc_object_t goxpc_build(const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, char *err, size_t errlen);
int goxpc_walk(xpc_object_t obj, goxpc_payload *p);
void goxpc_payload_free(goxpc_payload *p);

void goxpc_retain(xpc_object_t o);
void goxpc_release(xpc_object_t o);
int goxpc_error_kind(xpc_object_t ev);

// Connections. Every connection is returned inactive.
xpc_object_t goxpc_conn_mach(const char *name, int listener, int privileged);
xpc_object_t goxpc_conn_anonymous(void);
xpc_object_t goxpc_conn_from_endpoint(xpc_object_t ep);
xpc_object_t goxpc_endpoint_create(xpc_object_t conn);
int goxpc_set_requirement(xpc_object_t conn, const char *req);
void goxpc_activate(xpc_object_t conn, uintptr_t handle, size_t maxsize);
void goxpc_discard(xpc_object_t conn);
void goxpc_reject(xpc_object_t conn, const char *key, const char *reason);
int goxpc_on_queue(uintptr_t handle);
void goxpc_cancel(xpc_object_t conn);
void goxpc_peer(xpc_object_t conn, int *pid, int *uid, int *gid, int *asid);
int goxpc_parent_pid(void);

int goxpc_send(xpc_object_t conn, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, char *err, size_t errlen);
int goxpc_send_request(xpc_object_t conn, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
	xpc_object_t const *eps, size_t neps, uintptr_t handle, size_t maxsize, char *err, size_t errlen);
// goxpc_send_reply consumes the caller's reference to reply.
int goxpc_send_reply(xpc_object_t conn, xpc_object_t reply, const uint8_t *buf, size_t len,
	const int *fds, size_t nfds, xpc_object_t const *eps, size_t neps, char *err, size_t errlen);

#endif
