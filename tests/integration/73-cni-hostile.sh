#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CNI input a hostile or broken runtime, network configuration or IPAM
# plugin gives: container ids and interface names with dots (two
# containers must never share a pod; DEL of one never takes the other's),
# an IPAM address that is not an address, an IPAM error code beyond 32
# bits, an IPAM plugin that prints more than 1 MiB, newlines in CNI_ARGS,
# the network name and CNI_NETNS (the log stays one line per call), and
# the runtime's DEL after an ADD refused for an IPAM plugin that is not
# installed. Each with its code, and nothing left behind.
TEST=cni_hostile
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni-lib.bash"
require_bin
require_cni
require_cmd jq
mount_bpffs

make_ext_and_node n1 || abort "topology"
node_init n1 >/dev/null || abort "node init"
cni_setup || abort "cni dirs"
CONF=$(cni_conf)

# a fake IPAM plugin: ADD prints $FAKE_IPAM_OUT's file and exits $FAKE_IPAM_RC
cat >"$CNI_BIN/fake-ipam" <<'EOS'
#!/bin/sh
cat >/dev/null
case $CNI_COMMAND in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}' ;;
ADD) cat "$FAKE_IPAM_OUT" ;;
esac
exit "${FAKE_IPAM_RC:-0}"
EOS
chmod +x "$CNI_BIN/fake-ipam"
FAKE=$(cni_conf 1.1.0 '.ipam = { type: "fake-ipam" }')
snapshot() {
	echo "links: $(bl_links | tr '\n' ' ')"
	echo "endpoints: $(ep_keys | sort | tr '\n' ' ')"
	echo "state: $(state_files | tr '\n' ' ')"
	echo "host-local: $(hl_reserved | tr '\n' ' ')"
}
for n in a b c d; do new_netns "$(pod_ns $n)" || abort "netns $n"; done

# --- dots: x.y/eth0 and x/y.eth0 are two attachments, two pods -------------------
cni_add x.y "$(nspath a)" eth0 || abort "ADD x.y eth0: $CNI_OUT"
IP_XY=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
before=$(snapshot)
cni DEL x "$(nspath b)" y.eth0 "$CONF"
why=""
[ "$CNI_RC" = 0 ] || why="$why; DEL x y.eth0 failed: $CNI_OUT"
[ "$(snapshot)" = "$before" ] || why="$why; it changed: $(diff <(echo "$before") <(snapshot) | grep '^[<>]' | tr '\n' ' ')"
px a ip link show eth0 >/dev/null 2>&1 || why="$why; x.y's eth0 gone"
cni_check x.y "$(nspath a)"
[ "$CNI_RC" = 0 ] || why="$why; CHECK x.y: $CNI_OUT"
check dotted_del_other_container "${why#; }" [ -z "$why" ]
if cni_add x "$(nspath b)" y.eth0; then
	IP_X=$(jq -r '.ips[0].address | sub("/32$"; "")' <<<"$CNI_OUT")
	n=$(bl pod list --json | jq '[.[] | select(.netns | endswith("-p-a") or endswith("-p-b"))] | length')
	check dotted_two_pods "pods: $n, addresses $IP_XY and $IP_X" \
		bash -c '[ "$1" = 2 ] && [ "$2" != "$3" ]' _ "$n" "$IP_XY" "$IP_X"
	check dotted_both_work "b cannot reach a" ping_ok "$(pod_ns b)" "$IP_XY" 2
else
	fail dotted_two_pods "ADD x y.eth0: $CNI_OUT"
fi
cni_del x "$(nspath b)" y.eth0 || fail dotted_del "DEL x y.eth0: $CNI_OUT"
cni_del x.y "$(nspath a)" eth0 || fail dotted_del "DEL x.y eth0: $CNI_OUT"
check dotted_all_gone "left: $(bl_links | tr '\n' ' ') $(hl_reserved | tr '\n' ' ')" \
	[ -z "$(bl_links)" -a -z "$(hl_reserved)" ]

# two attachments on one name (as if two hashes met; here the record says
# another container): DEL compares and leaves the pod alone
cni_add zz "$(nspath a)" eth0 || abort "ADD zz: $CNI_OUT"
jq '.containerID = "other"' "$STATE/cni/zz.eth0" >"$TMPD/rec" && cp "$TMPD/rec" "$STATE/cni/zz.eth0"
cni DEL zz "$(nspath a)" eth0 "$CONF"
why=""
[ "$CNI_RC" = 0 ] || why="$why; DEL: $CNI_OUT"
px a ip link show eth0 >/dev/null 2>&1 || why="$why; the other container's eth0 is gone"
[ -n "$(pod_ip zz.eth0)" ] || why="$why; its pod record is gone"
check del_compares_container "${why#; }" [ -z "$why" ]
jq '.containerID = "zz"' "$STATE/cni/zz.eth0" >"$TMPD/rec" && cp "$TMPD/rec" "$STATE/cni/zz.eth0"
cni_del zz "$(nspath a)" eth0 || fail del_compares_container "DEL zz: $CNI_OUT"

# --- what an IPAM plugin prints -----------------------------------------------------
base=$(snapshot)
echo '{"cniVersion":"1.1.0","ips":[{"address":"10.244.1.7/garbage"}]}' >"$TMPD/ipam.out"
cni ADD ip0001 "$(nspath c)" eth0 "$FAKE" FAKE_IPAM_OUT="$TMPD/ipam.out"
expect_code ipam_address_garbage 102 '10.244.1.7/garbage.*not a.b.c.d/len'
echo '{"cniVersion":"1.1.0","code":4294967297,"msg":"out of addresses"}' >"$TMPD/ipam.out"
cni ADD ip0002 "$(nspath c)" eth0 "$FAKE" FAKE_IPAM_OUT="$TMPD/ipam.out" FAKE_IPAM_RC=1
expect_code ipam_code_64bit 4294967297 "out of addresses"
head -c 1100000 /dev/zero | tr '\0' 'x' >"$TMPD/ipam.out"
cni ADD ip0003 "$(nspath c)" eth0 "$FAKE" FAKE_IPAM_OUT="$TMPD/ipam.out"
expect_code ipam_output_too_big 102 "printed more than 1024 KiB; killed it"
check ipam_output_not_sigpipe "said: $(cni_msg)" bash -c '! grep -q "signal" <<<"$1"' _ "$(cni_msg)"
for c in ip0001 ip0002 ip0003; do cni DEL $c "$(nspath c)" eth0 "$FAKE" >/dev/null; done
check ipam_bad_output_leaves_nothing "$(diff <(echo "$base") <(snapshot) | grep '^>' | tr '\n' ' ')" \
	[ "$(snapshot)" = "$base" ]

# --- newlines cannot forge log lines --------------------------------------------------
lines0=$(wc -l <"$CNI_LOG")
cni ADD log0001 "/run/netns/nope
2026-01-01T00:00:00.000Z forged netns" eth0 "$(cni_conf 1.1.0 '.name = "blnet\nforged name"')" \
	"CNI_ARGS=K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web
forged args"
cni DEL log0001 "" eth0 "$CONF" "CNI_ARGS=a=b
forged del"
lines1=$(wc -l <"$CNI_LOG")
check log_one_line_per_call "$((lines1 - lines0)) lines for 2 calls: $(tail -n $((lines1 - lines0)) "$CNI_LOG" | cut -c1-120 | tr '\n' '|')" \
	[ $((lines1 - lines0)) = 2 ]
check log_no_forged_line "a log line starts with 'forged'" bash -c '! grep -q "^forged" "$1"' _ "$CNI_LOG"

# --- DEL after an ADD refused for an IPAM plugin that is not installed ---------------------
NOIPAM=$(cni_conf 1.1.0 '.ipam.type = "no-such-ipam"')
cni ADD noipam01 "$(nspath d)" eth0 "$NOIPAM"
expect_code add_ipam_missing 7 "no-such-ipam.*not found"
cni DEL noipam01 "$(nspath d)" eth0 "$NOIPAM"
check del_ipam_missing "DEL: exit $CNI_RC $CNI_OUT" [ "$CNI_RC" = 0 -a -z "$CNI_OUT" ]
check del_ipam_missing_logged "no note in the log" \
	grep -q "DEL container=noipam01 .*: ok (ipam no-such-ipam not found in CNI_PATH: no address released)" "$CNI_LOG"
check all_clean "left: $(diff <(echo "$base") <(snapshot) | grep '^>' | tr '\n' ' ')" \
	[ "$(snapshot)" = "$base" ]
finish
