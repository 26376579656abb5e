// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a CNI call prints: a result, an error or the versions, in the spec's shapes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cni/cni.h"

static void del_keys(json_t *arr, const char *const *keys)
{
	size_t i, k;
	json_t *o;

	json_array_foreach(arr, i, o)
		for (k = 0; keys[k]; k++)
			json_object_del(o, keys[k]);
}

void cni_result_convert(json_t *res, const char *v)
{
	static const char *const if_new[] = { "mtu", "socketPath", "pciID", NULL };
	static const char *const rt_new[] = { "mtu", "advmss", "priority", "table",
					      "scope", NULL };
	int num = cni_version_num(v);
	const char *addr;
	json_t *ip;
	size_t i;

	json_object_set_new(res, "cniVersion", json_string(v));
	/* 0.x results say "version": "4"/"6" per address; 1.0.0 dropped it. */
	json_array_foreach(json_object_get(res, "ips"), i, ip) {
		if (num >= 10000) {
			json_object_del(ip, "version");
			continue;
		}
		addr = json_string_value(json_object_get(ip, "address"));
		json_object_set_new(ip, "version",
				    json_string(addr && strchr(addr, ':') ? "6" : "4"));
	}
	/* Fields that came with 1.1.0. */
	if (num < 10100) {
		del_keys(json_object_get(res, "interfaces"), if_new);
		del_keys(json_object_get(res, "routes"), rt_new);
	}
}

int cni_print(json_t *res)
{
	if (json_dumpf(res, stdout, JSON_INDENT(4)) || putchar('\n') == EOF ||
	    fflush(stdout))
		return cni_errorf(CNI_ERR_IO, -EIO, "write result to stdout");
	return 0;
}

void cni_print_error(const char *version, cni_code_t code, const char *msg,
		     const char *details)
{
	json_t *e;

	e = json_pack("{s:s, s:I, s:s}", "cniVersion",
		      version && cni_version_supported(version) ? version :
								  CNI_VERSION_LATEST,
		      "code", code, "msg", msg);
	if (details && *details)
		json_object_set_new(e, "details", json_string(details));
	cni_print(e);
	json_decref(e);
}

void cni_print_version(const char *req_version)
{
	json_t *o, *list = json_array();
	int i;

	for (i = 0; cni_versions[i]; i++)
		json_array_append_new(list, json_string(cni_versions[i]));
	o = json_pack("{s:s, s:o}", "cniVersion",
		      req_version && cni_version_supported(req_version) ?
			      req_version :
			      CNI_VERSION_LATEST,
		      "supportedVersions", list);
	cni_print(o);
	json_decref(o);
}
