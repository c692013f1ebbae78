// Checks goxpc_build and goxpc_walk against the fake libxpc; see run.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include "shim.h"
extern long live_objs;
xpc_object_t fake_new(const void *t);
extern const struct xtype T_endpoint, T_shmem;
static int fails;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); fails++; } } while (0)

static int roundtrip(const uint8_t *b, size_t n, size_t max, int expect_ok, const char *name) {
	char err[160];
	xpc_object_t o = goxpc_build(b, n, NULL, 0, NULL, 0, err, sizeof err);
	if (!o) { CHECK(!expect_ok, "%s: build failed: %s", name, err); return 0; }
	goxpc_payload p; memset(&p, 0, sizeof p); p.max = max;
	int ok = goxpc_walk(o, &p);
	if (expect_ok) {
		CHECK(ok, "%s: walk failed: %s", name, p.err);
		CHECK(p.len == n && memcmp(p.buf, b, n) == 0, "%s: walk differs (%zu vs %zu)", name, p.len, n);
	}
	goxpc_payload_free(&p);
	xpc_release(o);
	return 1;
}

static void put32(uint8_t *b, size_t *o, uint32_t v) { memcpy(b + *o, &v, 4); *o += 4; }

int main(void) {
	DIR *d = opendir("vec");
	struct dirent *e;
	int nvec = 0, accepted = 0, mutants = 0;
	srand(7);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		char path[512]; snprintf(path, sizeof path, "vec/%s", e->d_name);
		FILE *f = fopen(path, "rb"); uint8_t buf[1 << 16]; size_t n = fread(buf, 1, sizeof buf, f); fclose(f);
		nvec++;
		roundtrip(buf, n, 1 << 20, 1, e->d_name);
		// over the limit
		{
			char err[160];
			xpc_object_t o = goxpc_build(buf, n, NULL, 0, NULL, 0, err, sizeof err);
			goxpc_payload p; memset(&p, 0, sizeof p); p.max = n - 1;
			CHECK(!goxpc_walk(o, &p) && p.too_large, "%s: limit not enforced", e->d_name);
			goxpc_payload_free(&p); xpc_release(o);
		}
		// mutations and truncations must never crash or leak
		for (int m = 0; m < (getenv("NMUT") ? atoi(getenv("NMUT")) : 400); m++) {
			uint8_t mb[1 << 16]; memcpy(mb, buf, n); size_t mn = n;
			int kind = rand() % 3;
			if (kind == 0) mb[rand() % n] ^= (uint8_t)(1 << (rand() % 8));
			else if (kind == 1) mn = rand() % n;
			else { size_t at = (rand() % (n / 4)) * 4; uint32_t v = rand() % 2 ? 0xffffffffu : (uint32_t)(rand() % 64); if (at + 4 <= n) memcpy(mb + at, &v, 4); }
			uint8_t *heap = malloc(mn ? mn : 1); memcpy(heap, mb, mn); // exact-size buffer: valgrind sees overreads
			accepted += roundtrip(heap, mn, 1 << 20, 0, "mutant");
			free(heap);
			mutants++;
		}
	}
	closedir(d);
	CHECK(live_objs == 0, "leaked %ld objects after vectors", live_objs);

	// mutants judged by the Go decoder (gen): C must agree on every one
	int judged = 0, goods = 0;
	d = opendir("mut");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		char path[512]; snprintf(path, sizeof path, "mut/%s", e->d_name);
		FILE *f = fopen(path, "rb"); uint8_t buf[1 << 16]; size_t n = fread(buf, 1, sizeof buf, f); fclose(f);
		int want = strstr(e->d_name, ".ok") != NULL;
		uint8_t *heap = malloc(n ? n : 1); memcpy(heap, buf, n);
		char err[160];
		xpc_object_t o = goxpc_build(heap, n, NULL, 0, NULL, 0, err, sizeof err);
		CHECK((o != NULL) == want, "%s: Go %s it, C %s (%s)", e->d_name, want ? "accepts" : "refuses", o ? "accepts" : "refuses", o ? "" : err);
		if (o) {
			goxpc_payload p; memset(&p, 0, sizeof p); p.max = 1 << 20;
			CHECK(goxpc_walk(o, &p), "%s: accepted but does not walk: %s", e->d_name, p.err);
			goxpc_payload_free(&p); xpc_release(o);
		}
		free(heap);
		judged++; goods += want;
	}
	if (d) closedir(d);
	CHECK(live_objs == 0, "leaked %ld objects after judged mutants", live_objs);

	// fd and endpoint attachments
	{
		uint8_t b[64]; size_t o = 0;
		put32(b, &o, 0x42133742); put32(b, &o, 5); put32(b, &o, 0xf000); size_t lenat = o; put32(b, &o, 0); put32(b, &o, 2);
		memcpy(b + o, "f\0\0\0", 4); o += 4; put32(b, &o, 0xb000); put32(b, &o, 0);
		memcpy(b + o, "e\0\0\0", 4); o += 4; put32(b, &o, 0x12000); put32(b, &o, 0);
		uint32_t l = (uint32_t)(o - lenat - 4); memcpy(b + lenat, &l, 4);
		int pfd[2]; pipe(pfd);
		int fds[1] = {pfd[0]};
		xpc_object_t ep = fake_new(&T_endpoint);
		xpc_object_t eps[1] = {ep};
		char err[160];
		xpc_object_t msg = goxpc_build(b, o, fds, 1, eps, 1, err, sizeof err);
		CHECK(msg != NULL, "attachments: %s", err);
		goxpc_payload p; memset(&p, 0, sizeof p); p.max = 1 << 20;
		CHECK(goxpc_walk(msg, &p), "walk attachments: %s", p.err);
		CHECK(p.len == o && memcmp(p.buf, b, o) == 0, "attachments bytes differ");
		CHECK(p.nfds == 1 && p.fds[0] != pfd[0] && p.fds[0] >= 0, "fd not duplicated");
		CHECK(p.neps == 1 && p.eps[0] == ep, "endpoint not passed");
		write(pfd[1], "x", 1); char c = 0; read(p.fds[0], &c, 1); CHECK(c == 'x', "fd is not the pipe");
		close(p.fds[0]); xpc_release(p.eps[0]); goxpc_payload_free(&p);
		xpc_release(msg);
		// index out of range (with the descriptor and endpoint still open:
		// only the index may be what is refused)
		CHECK(goxpc_build(b, o, fds, 0, eps, 1, err, sizeof err) == NULL, "missing fd accepted");
		CHECK(goxpc_build(b, o, fds, 1, eps, 0, err, sizeof err) == NULL, "missing endpoint accepted");
		// one descriptor referenced twice: the Go decoder refuses it, so must C
		memcpy(b + o - 12, "g\0\0\0", 4); put32(b, &(size_t){o - 8}, 0xb000); put32(b, &(size_t){o - 4}, 0);
		CHECK(goxpc_build(b, o, fds, 1, eps, 1, err, sizeof err) == NULL, "a descriptor used twice accepted");
		CHECK(goxpc_build(b, o, fds, 257, eps, 0, err, sizeof err) == NULL, "257 descriptors accepted");
		xpc_release(ep); close(pfd[0]); close(pfd[1]);
		CHECK(live_objs == 0, "leaked %ld objects after attachments", live_objs);
	}
	// unsupported type becomes null; failed walks give back attachments
	{
		xpc_object_t dct = xpc_dictionary_create(NULL, NULL, 0);
		xpc_object_t sh = fake_new(&T_shmem);
		xpc_dictionary_set_value(dct, "shm", sh); xpc_release(sh);
		goxpc_payload p; memset(&p, 0, sizeof p); p.max = 1 << 20;
		CHECK(goxpc_walk(dct, &p), "walk shmem: %s", p.err);
		CHECK(p.nunsupported == 1 && strcmp(p.unsupported, "shmem") == 0, "unsupported not reported: %zu %s", p.nunsupported, p.unsupported);
		goxpc_payload_free(&p);
		int pfd[2]; pipe(pfd);
		xpc_object_t fo = xpc_fd_create(pfd[0]);
		xpc_dictionary_set_value(dct, "fd", fo); xpc_release(fo);
		xpc_object_t big = xpc_data_create("0123456789", 10);
		xpc_dictionary_set_value(dct, "big", big); xpc_release(big);
		memset(&p, 0, sizeof p); p.max = 40;
		CHECK(!goxpc_walk(dct, &p), "limit ignored");
		CHECK(p.nfds == 0 && p.too_large, "failed walk kept fds");
		goxpc_payload_free(&p);
		xpc_release(dct);
		// an attachment whose own tag crosses the limit is given back too
		// (header 20 bytes + key 4: the tag is the first thing refused)
		fo = xpc_fd_create(pfd[0]);
		xpc_object_t one = xpc_dictionary_create(NULL, NULL, 0);
		xpc_dictionary_set_value(one, "fd", fo); xpc_release(fo);
		int next = dup(0); close(next); // the lowest free descriptor
		memset(&p, 0, sizeof p); p.max = 24;
		CHECK(!goxpc_walk(one, &p) && p.too_large, "fd walk at the limit succeeded");
		int again = dup(0);
		CHECK(again == next, "a failed walk leaked its duplicated descriptor");
		close(again);
		goxpc_payload_free(&p); xpc_release(one);
		xpc_object_t e1 = fake_new(&T_endpoint);
		one = xpc_dictionary_create(NULL, NULL, 0);
		xpc_dictionary_set_value(one, "ep", e1); xpc_release(e1);
		memset(&p, 0, sizeof p); p.max = 24;
		CHECK(!goxpc_walk(one, &p) && p.too_large, "endpoint walk at the limit succeeded");
		goxpc_payload_free(&p); xpc_release(one);
		CHECK(live_objs == 0, "a failed walk kept its endpoint (%ld live)", live_objs);
		close(pfd[0]); close(pfd[1]);
		// depth
		xpc_object_t root = xpc_dictionary_create(NULL, NULL, 0), cur = root;
		for (int i = 0; i < 64; i++) { xpc_object_t n = xpc_dictionary_create(NULL, NULL, 0); xpc_dictionary_set_value(cur, "d", n); xpc_release(n); cur = n; }
		memset(&p, 0, sizeof p); p.max = 1 << 20;
		CHECK(!goxpc_walk(root, &p), "65 levels accepted");
		goxpc_payload_free(&p);
		xpc_release(root);
		CHECK(live_objs == 0, "leaked %ld objects", live_objs);
	}
	printf("%d vectors, %d mutants (%d built), %d judged by Go (%d valid), %d failures\n", nvec, mutants, accepted, judged, goods, fails);
	return fails != 0;
}
