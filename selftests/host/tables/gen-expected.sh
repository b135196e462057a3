#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate the expected outputs of tables_test.sh from real iptables
# (iptables-legacy 1.8.9, as in Debian 12), each run in a private network
# namespace (unshare -n, as root):
#
#   rulesN.rules -> expectedN.save   iptables-legacy-restore, then
#                                    iptables-legacy-save -t filter and
#                                    -t nat, comment lines removed
#   listN.state  -> countersN.save   the same with -c (restore and save)
#   listN.cmds   -> listN.expected   each line's command run on listN.state
#   editN.cmds   -> editN.expected   each line's command run on editN.state,
#                                    then, if it succeeded,
#                                    iptables-legacy-save -c of the table
#
# The expected files are committed: the test itself needs no iptables.
# Run this only to add cases, and check the diff.
set -eu
cd "$(dirname "$0")"

[ "$(id -u)" = 0 ] || { echo "run as root (unshare -n)" >&2; exit 1; }

# ipt FAMILY: iptables-legacy or ip6tables-legacy
ipt() { [ "$1" = 4 ] && echo iptables-legacy || echo ip6tables-legacy; }

# gen_save FAMILY IN OUT [-c]
gen_save() {
	local i
	i=$(ipt "$1")
	# shellcheck disable=SC2016
	unshare -n sh -c '"$1-restore" $3 <"$2" && "$1-save" $3 -t filter &&
		"$1-save" $3 -t nat' sh "$i" "$2" "${4:-}" |
		grep -v '^#' >"$3"
}

# gen_cmds FAMILY KIND: one block per command line of KIND$n.cmds
gen_cmds() {
	local n=$1 kind=$2 i line table
	i=$(ipt "$n")
	: >"$kind$n.expected"
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		table=filter
		case " $line " in *" -t nat "* | *" --table nat "*) table=nat ;; esac
		echo "== $line" >>"$kind$n.expected"
		# shellcheck disable=SC2016
		unshare -n sh -c '
			i=$1 state=$2 kind=$3 table=$4 line=$5
			"$i-restore" -c <"$state" || exit 99
			eval "set -- $line"
			"$i" "$@" >/tmp/gen.out 2>/dev/null
			rc=$?
			cat /tmp/gen.out
			# The table after a change (a failure changes nothing).
			if [ "$kind" = edit ] && [ $rc = 0 ]; then
				"$i-save" -c -t "$table" | grep -v "^#"
			fi
			echo "rc=$rc"' sh "$i" "$kind$n.state" "$kind" "$table" \
			"$line" >>"$kind$n.expected"
	done <"$kind$n.cmds"
}

for n in 4 6; do
	gen_save $n "rules$n.rules" "expected$n.save"
	gen_save $n "list$n.state" "counters$n.save" -c
	for kind in list edit; do
		[ -r "$kind$n.cmds" ] && gen_cmds $n $kind
	done
done
rm -f /tmp/gen.out
echo "regenerated: $(ls ./*.save ./*.expected | tr '\n' ' ')"
