// Declarations of the fake libxpc used by run.sh (only what shim_darwin.c names).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <dispatch/dispatch.h>
typedef void *xpc_object_t;
typedef const struct xtype *xpc_type_t;
struct xtype { const char *name; };
typedef void *xpc_connection_t;
typedef void *xpc_endpoint_t;
typedef void (^xpc_handler_t)(xpc_object_t);
typedef bool (^xpc_dictionary_applier_t)(const char *, xpc_object_t);
typedef bool (^xpc_array_applier_t)(size_t, xpc_object_t);
extern const struct xtype T_dict, T_string, T_int64, T_uint64, T_bool, T_double, T_date, T_data, T_uuid, T_array, T_null, T_fd, T_endpoint, T_connection, T_error, T_shmem;
#define XPC_TYPE_DICTIONARY (&T_dict)
#define XPC_TYPE_STRING (&T_string)
#define XPC_TYPE_INT64 (&T_int64)
#define XPC_TYPE_UINT64 (&T_uint64)
#define XPC_TYPE_BOOL (&T_bool)
#define XPC_TYPE_DOUBLE (&T_double)
#define XPC_TYPE_DATE (&T_date)
#define XPC_TYPE_DATA (&T_data)
#define XPC_TYPE_UUID (&T_uuid)
#define XPC_TYPE_ARRAY (&T_array)
#define XPC_TYPE_NULL (&T_null)
#define XPC_TYPE_FD (&T_fd)
#define XPC_TYPE_ENDPOINT (&T_endpoint)
#define XPC_TYPE_CONNECTION (&T_connection)
#define XPC_TYPE_ERROR (&T_error)
extern char E_int, E_inv, E_term, E_req;
#define XPC_ERROR_CONNECTION_INTERRUPTED ((xpc_object_t)&E_int)
#define XPC_ERROR_CONNECTION_INVALID ((xpc_object_t)&E_inv)
#define XPC_ERROR_TERMINATION_IMMINENT ((xpc_object_t)&E_term)
#define XPC_ERROR_PEER_CODE_SIGNING_REQUIREMENT ((xpc_object_t)&E_req)
#define XPC_ERROR_KEY_DESCRIPTION "XPCErrorDescription"
#define XPC_CONNECTION_MACH_SERVICE_LISTENER 1
#define XPC_CONNECTION_MACH_SERVICE_PRIVILEGED 2
xpc_type_t xpc_get_type(xpc_object_t);
const char *xpc_type_get_name(xpc_type_t);
xpc_object_t xpc_retain(xpc_object_t);
void xpc_release(xpc_object_t);
xpc_object_t xpc_null_create(void);
xpc_object_t xpc_bool_create(bool);
bool xpc_bool_get_value(xpc_object_t);
xpc_object_t xpc_int64_create(int64_t);
int64_t xpc_int64_get_value(xpc_object_t);
xpc_object_t xpc_uint64_create(uint64_t);
uint64_t xpc_uint64_get_value(xpc_object_t);
xpc_object_t xpc_double_create(double);
double xpc_double_get_value(xpc_object_t);
xpc_object_t xpc_date_create(int64_t);
int64_t xpc_date_get_value(xpc_object_t);
xpc_object_t xpc_data_create(const void *, size_t);
size_t xpc_data_get_length(xpc_object_t);
const void *xpc_data_get_bytes_ptr(xpc_object_t);
xpc_object_t xpc_string_create(const char *);
size_t xpc_string_get_length(xpc_object_t);
const char *xpc_string_get_string_ptr(xpc_object_t);
xpc_object_t xpc_uuid_create(const unsigned char *);
const uint8_t *xpc_uuid_get_bytes(xpc_object_t);
xpc_object_t xpc_fd_create(int);
int xpc_fd_dup(xpc_object_t);
xpc_object_t xpc_array_create(xpc_object_t *, size_t);
void xpc_array_append_value(xpc_object_t, xpc_object_t);
size_t xpc_array_get_count(xpc_object_t);
bool xpc_array_apply(xpc_object_t, xpc_array_applier_t);
xpc_object_t xpc_dictionary_create(const char *const *, xpc_object_t *, size_t);
void xpc_dictionary_set_value(xpc_object_t, const char *, xpc_object_t);
xpc_object_t xpc_dictionary_get_value(xpc_object_t, const char *);
size_t xpc_dictionary_get_count(xpc_object_t);
bool xpc_dictionary_apply(xpc_object_t, xpc_dictionary_applier_t);
const char *xpc_dictionary_get_string(xpc_object_t, const char *);
void xpc_dictionary_set_string(xpc_object_t, const char *, const char *);
xpc_object_t xpc_dictionary_create_reply(xpc_object_t);
xpc_connection_t xpc_connection_create_mach_service(const char *, dispatch_queue_t, uint64_t);
xpc_connection_t xpc_connection_create(const char *, dispatch_queue_t);
xpc_connection_t xpc_connection_create_from_endpoint(xpc_endpoint_t);
xpc_endpoint_t xpc_endpoint_create(xpc_connection_t);
int xpc_connection_set_peer_code_signing_requirement(xpc_connection_t, const char *);
void xpc_connection_set_target_queue(xpc_connection_t, dispatch_queue_t);
void xpc_connection_set_event_handler(xpc_connection_t, xpc_handler_t);
void xpc_connection_activate(xpc_connection_t);
void xpc_connection_cancel(xpc_connection_t);
void xpc_connection_send_message(xpc_connection_t, xpc_object_t);
void xpc_connection_send_barrier(xpc_connection_t, dispatch_block_t);
void xpc_connection_send_message_with_reply(xpc_connection_t, xpc_object_t, dispatch_queue_t, xpc_handler_t);
int xpc_connection_get_pid(xpc_connection_t);
unsigned xpc_connection_get_euid(xpc_connection_t);
unsigned xpc_connection_get_egid(xpc_connection_t);
int xpc_connection_get_asid(xpc_connection_t);
