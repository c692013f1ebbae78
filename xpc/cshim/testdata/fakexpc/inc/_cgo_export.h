// Stands in for the _cgo_export.h that cgo generates.
#pragma once
#include "shim.h"
void goxpcMessage(uintptr_t, xpc_object_t, xpc_object_t, goxpc_payload *);
void goxpcPeer(uintptr_t, xpc_object_t);
void goxpcError(uintptr_t, int, char *);
void goxpcReply(uintptr_t, int, char *, goxpc_payload *);
