// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What an IPAM plugin prints: a result (its address and routes), or its
 * error. Oracles: the address taken prints back as given; the routes
 * taken, printed as our result lists them, read back the same; an error
 * with a code passes that exact code on, however large.
 */
#include <sys/wait.h>
#include "cni/cni.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_result(const struct cni_req *r, json_t *res, const char *text)
{
	/* a pod of both families: every route is printed */
	static const struct pod_rec both = { .ip = 1, .has_ip6 = 1 };
	struct pod_routes rs, rs2;
	struct ipam_addr a;
	char buf[32], ip[16];
	json_t *out;
	unsigned int i;
	const char *s;

	if (cni_ipam_addr(res, &a) == 0) {
		json_t *ips = json_object_get(res, "ips"), *e;
		const char *s4 = NULL, *s6 = NULL;
		char ip6[IPADDR_STRLEN];
		size_t k;

		/* The first one of each family is taken, each exactly as printed. */
		json_array_foreach(ips, k, e) {
			s = json_string_value(json_object_get(e, "address"));
			oracle(s, "ips[%zu] without an address taken", k);
			if (!strchr(s, ':') && !s4)
				s4 = s;
			if (strchr(s, ':') && !s6)
				s6 = s;
		}
		oracle(a.has_ip == !!s4 && a.has_ip6 == !!s6, "families taken otherwise");
		if (a.has_ip) {
			snprintf(buf, sizeof(buf), "%s/%d", ip_str(a.ip, ip), a.prefix_len);
			oracle(!strcmp(buf, s4), "address \"%s\" taken as %s", s4, buf);
		}
		if (a.has_ip6) {
			struct ipaddr b;
			char head[IPADDR_STRLEN];

			snprintf(head, sizeof(head), "%.*s", (int)strcspn(s6, "/"), s6);
			oracle(!ipaddr_parse(head, &b) && !memcmp(b.a, a.ip6, 16),
			       "address \"%s\" taken as %s", s6, ip6_str(a.ip6, ip6));
		}
		json_decref(a.dns);
	}
	if (cni_ipam_routes(r, res, &rs))
		return;
	out = json_pack("{s:[]}", "routes");
	cni_routes_result(json_object_get(out, "routes"), &rs, &both);
	oracle(!cni_ipam_routes(r, out, &rs2), "printed routes refused: %s", text);
	oracle(rs.n == rs2.n, "%u routes read back as %u", rs.n, rs2.n);
	for (i = 0; i < rs.n; i++) {
		oracle(rs.r[i].len >= 1 && rs.r[i].len <= (rs.r[i].family == AF_INET6 ? 128 : 32),
		       "route length %d", rs.r[i].len);
		oracle(prefix_equal(&rs.r[i], &rs2.r[i]), "route %u reads back otherwise", i);
	}
	json_decref(out);
}

static void check_error(const struct cni_req *r, const char *text, size_t len)
{
	json_t *e = json_loadb(text, len, 0, NULL);
	json_t *code = json_object_get(e, "code");
	const char *msg = json_string_value(json_object_get(e, "msg"));

	cni_code = 0;
	oracle(cni_plugin_error(r, "ADD", text, len, 1 << 8) < 0, "an error is no error");
	oracle(error_message()[0], "error without a message");
	if (msg && json_is_integer(code) && json_integer_value(code) > 0)
		oracle(cni_code == json_integer_value(code), "code %lld passed on as %lld",
		       (long long)json_integer_value(code), (long long)cni_code);
	else
		oracle(cni_code == CNI_ERR_IPAM, "no CNI error, code %lld", (long long)cni_code);
	json_decref(e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct cni_req r = { .command = "ADD", .ipam_type = "fuzz" };
	char *text;
	json_t *res;

	if (size > 65536)
		return 0;
	text = fuzz_str(data, size);
	res = json_loads(text, 0, NULL);
	if (json_is_object(res))
		check_result(&r, res, text);
	check_error(&r, text, strlen(text));
	json_decref(res);
	error_clear();
	free(text);
	return 0;
}
