# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Helpers for the Kubernetes API tests (96-k8s-*.sh), on top of lib.sh:
#
#   k8s_pki DIR                  a test CA (and a second, unrelated one), the API
#                                server's certificate for 198.51.100.1 and a
#                                client certificate, made with openssl
#   k8s_server_start             tests/integration/k8s-apiserver.py in the ext
#                                namespace on https://198.51.100.1:6443
#   k8s_ctl PATH [BODY]          POST to its control socket (GET for /stats, /objects)
#   k8s_kubeconfig FILE [--token-file F] [--ca FILE] [--inline] [--cert]
#                                a kubeconfig for the test server
#   svc_json / slice_json / node_json    objects, as kubectl would show them
#   expected_table               the service table the server's objects should
#                                give, computed here in jq, independently of the agent
#   table NODE                   `service list --json` of NODE, normalized

K8S_ADDR=198.51.100.1
K8S_PORT=6443
K8S_TOKEN=test-token-$RANDOM$RANDOM
K8S_DIR=$TMPD/k8s
K8S_CTL=$K8S_DIR/control.sock
PY=/usr/bin/python3

k8s_pki() {
	local d=$1 n
	mkdir -p "$d"
	for n in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$n.key" -out "$d/$n.crt" -days 2 -subj "/CN=bridgeless-test-$n" \
			2>/dev/null || return 1
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj /CN=kube-apiserver 2>/dev/null &&
		printf 'subjectAltName=IP:%s,DNS:kubernetes\nextendedKeyUsage=serverAuth\n' "$K8S_ADDR" >"$d/server.ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>/dev/null ||
		return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/client.key" -out "$d/client.csr" \
		-subj "/O=system:nodes/CN=system:node:bridgeless" 2>/dev/null &&
		printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext" &&
		openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -out "$d/client.crt" -days 2 -extfile "$d/client.ext" 2>/dev/null
}

# k8s_server_start [server args]: needs the ext namespace (make_ext_and_node)
k8s_server_start() {
	mkdir -p "$K8S_DIR"
	[ -e "$K8S_DIR/ca.crt" ] || k8s_pki "$K8S_DIR" || return 1
	nsenter --net="/run/netns/$EXT" "$PY" "$ROOT/tests/integration/k8s-apiserver.py" \
		--listen "$K8S_ADDR:$K8S_PORT" --cert "$K8S_DIR/server.crt" \
		--key "$K8S_DIR/server.key" --ca "$K8S_DIR/ca.crt" --token "$K8S_TOKEN" \
		--control "$K8S_CTL" "$@" >"$K8S_DIR/server.log" 2>&1 &
	PIDS+=($!)
	K8S_PID=$!
	wait_for 10 test -S "$K8S_CTL" && wait_listen "$EXT" "$K8S_PORT"
}

k8s_ctl() {
	local path=$1 body=${2:-}
	case $path in
	/stats* | /objects*)
		curl -sf --max-time 20 --unix-socket "$K8S_CTL" "http://ctl$path" ;;
	*)
		printf '%s' "$body" | curl -sf --max-time 120 --unix-socket "$K8S_CTL" \
			-X POST --data-binary @- "http://ctl$path" >/dev/null ;;
	esac
}

k8s_apply() { k8s_ctl /apply "$(jq -cs . <<<"$*")"; }
k8s_delete() { k8s_ctl /delete "$(jq -cn --arg r "$1" --arg k "$2" '{resource: $r, key: $k}')"; }
# k8s_requests JQ-FILTER: how many requests the server saw that match
k8s_requests() { k8s_ctl /stats | jq "[.requests[] | select($1)] | length"; }

# k8s_kubeconfig FILE [--token-file F] [--token T] [--ca FILE] [--inline] [--cert]
k8s_kubeconfig() {
	local f=$1 tokfile="" tok="" ca=$K8S_DIR/ca.crt inline=0 cert=0
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--token-file) tokfile=$2; shift ;;
		--token) tok=$2; shift ;;
		--ca) ca=$2; shift ;;
		--inline) inline=1 ;;
		--cert) cert=1 ;;
		esac
		shift
	done
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "clusters:"
		echo "- name: test"
		echo "  cluster:"
		echo "    server: https://$K8S_ADDR:$K8S_PORT"
		if [ $inline = 1 ]; then
			echo "    certificate-authority-data: $(base64 -w0 "$ca")"
		else
			echo "    certificate-authority: $ca"
		fi
		echo "contexts:"
		echo "- name: other"
		echo "  context: {cluster: nowhere, user: nobody}"
		echo "- name: test"
		echo "  context:"
		echo "    cluster: test"
		echo "    user: bridgeless"
		echo "current-context: test"
		echo "users:"
		echo "- name: bridgeless"
		echo "  user:"
		if [ $cert = 1 ] && [ $inline = 1 ]; then
			echo "    client-certificate-data: $(base64 -w0 "$K8S_DIR/client.crt")"
			echo "    client-key-data: $(base64 -w0 "$K8S_DIR/client.key")"
		elif [ $cert = 1 ]; then
			echo "    client-certificate: $K8S_DIR/client.crt"
			echo "    client-key: $K8S_DIR/client.key"
		elif [ -n "$tokfile" ]; then
			echo "    tokenFile: $tokfile"
		else
			echo "    token: \"${tok:-$K8S_TOKEN}\""
		fi
	} >"$f"
}

# --- objects --------------------------------------------------------------------

# node_json NAME CIDR IP
node_json() {
	jq -cn --arg n "$1" --arg c "$2" --arg ip "$3" '{
		apiVersion: "v1", kind: "Node", metadata: { name: $n },
		spec: ({ podCIDR: $c, podCIDRs: [$c] } | if $c == "" then {} else . end),
		status: { addresses: [{ type: "InternalIP", address: $ip },
				       { type: "Hostname", address: $n }] } }'
}

# svc_json NS NAME CLUSTER-IP PORTS-JSON [extra spec JSON] [labels JSON]
svc_json() {
	jq -cn --arg ns "$1" --arg n "$2" --arg ip "$3" --argjson ports "$4" \
		--argjson extra "${5:-{\}}" --argjson labels "${6:-{\}}" '{
		apiVersion: "v1", kind: "Service",
		metadata: { name: $n, namespace: $ns, labels: $labels },
		spec: ({ type: "ClusterIP", clusterIP: $ip, clusterIPs: [$ip], ports: $ports,
			 sessionAffinity: "None" } + $extra) }'
}

# slice_json NS NAME SERVICE PORTS-JSON ENDPOINTS-JSON [addressType]
slice_json() {
	jq -cn --arg ns "$1" --arg n "$2" --arg svc "$3" --argjson ports "$4" \
		--argjson eps "$5" --arg at "${6:-IPv4}" '{
		apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
		metadata: { name: $n, namespace: $ns,
			    labels: { "kubernetes.io/service-name": $svc,
				      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } },
		addressType: $at, ports: $ports, endpoints: $eps }'
}

# ep IP [ready] [serving] [terminating] [node]: one endpoint
ep() {
	jq -cn --arg ip "$1" --arg r "${2:-true}" --arg s "${3:-true}" --arg t "${4:-false}" \
		--arg node "${5:-n1}" '{ addresses: [$ip],
		conditions: { ready: ($r == "true"), serving: ($s == "true"),
			      terminating: ($t == "true") }, nodeName: $node }'
}

# The service table the objects of a List (stdin) should give, as
# `service list --json` prints it: what docs/AGENT-K8S.md says, in jq.
EXPECTED_JQ='
def proto: . // "TCP";
def backends($slices; $p):
	[ $slices[] as $s | ($s.ports // [])[] | select((.name // "") == ($p.name // "")
		and (.protocol | proto) == ($p.protocol | proto) and .port != null) as $sp
	  | ($s.endpoints // [])[]
	  | { ip: .addresses[0], port: $sp.port,
	      ready: (.conditions.ready != false), serving: (.conditions.serving != false),
	      terminating: (.conditions.terminating == true) }
	    + (if .nodeName then { nodeName: .nodeName } else {} end) ]
	| unique_by([.ip, .port]);
[.items[] | select(.kind == "EndpointSlice" and .addressType != "FQDN"
		and .metadata.labels["kubernetes.io/service-name"] != null)] as $all
| [ .items[] | select(.kind == "Service")
    | select(.spec.type != "ExternalName" and .spec.clusterIP != "None"
	     and (.spec.clusterIP // "") != ""
	     and .metadata.labels["service.kubernetes.io/service-proxy-name"] == null)
    | . as $svc
    | [ $all[] | select(.metadata.namespace == $svc.metadata.namespace and
			.metadata.labels["kubernetes.io/service-name"] == $svc.metadata.name) ] as $slices
    | { namespace: .metadata.namespace, name: .metadata.name,
	clusterIPs: (.spec.clusterIPs // [.spec.clusterIP]),
	sessionAffinity: (.spec.sessionAffinity // "None"),
	internalTrafficPolicy: (.spec.internalTrafficPolicy // "Cluster"),
	ports: [ (.spec.ports // [])[] | . as $p
		 | { name: (.name // ""), protocol: (.protocol | proto), port: .port,
		     backends: backends($slices; $p) } ] }
      + (if .spec.sessionAffinity == "ClientIP"
	 then { sessionAffinityTimeoutSeconds:
		(.spec.sessionAffinityConfig.clientIP.timeoutSeconds // 10800) } else {} end) ]
| sort_by([.namespace, .name])'

# normalize: backends sorted the same way on both sides; what the datapath
# holds for a port (services in BPF) is not the table's
NORMALIZE_JQ='map(.ports |= map(del(.datapath) | .backends |= sort_by([.ip, .port])))'

# expected_table [JQ-FILTER]: from the server's objects (then the filter)
expected_table() {
	k8s_ctl /objects | jq -S "$EXPECTED_JQ | $NORMALIZE_JQ | ${1:-.}"
}

# table NODE: the agent's table
table() {
	bln "$1" service list --json 2>/dev/null | jq -S "$NORMALIZE_JQ" 2>/dev/null
}

# table_matches NODE [JQ-FILTER]: the table is what the server holds
table_matches() {
	local want
	want=$(expected_table "${2:-.}")
	[ -n "$want" ] && [ "$(table "$1")" = "$want" ]
}

# table_diff NODE [JQ-FILTER]: for a FAIL message
table_diff() {
	diff <(expected_table "${2:-.}") <(table "$1") | head -20 | tr '\n' ' '
}

# routes NODE: our routes in NODE, "dst via gw" a line
routes() { ndx "$1" ip -4 route show proto 199 | awk '{ print $1, $2, $3 }' | sort; }
has_routes() { [ "$(routes "$1")" = "$2" ]; }

# timed CMD...: run CMD until it succeeds (up to TIMED_SECS, default 10 s);
# ELAPSED is how long it took
timed() {
	local t0 t1
	t0=$(date +%s%N)
	wait_for "${TIMED_SECS:-10}" "$@"
	local rc=$?
	t1=$(date +%s%N)
	ELAPSED=$(((t1 - t0) / 1000000))ms
	return $rc
}
