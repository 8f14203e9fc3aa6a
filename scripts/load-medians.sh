#!/usr/bin/env bash
# Reads hamlet-load output (its "summary:" lines, one per run) on stdin and
# prints the median of each figure over the runs, with the ratio to its
# baseline taken within each run (the machine is shared: a ratio within one
# run holds still where absolute figures move with the load).
set -euo pipefail
awk '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^summary: / {
	for (i = 2; i < NF; i += 2) v[$i] = $(i+1)
	n++
	p99[n] = v["p99_ms"]; cpu[n] = v["cpu_ms_per_sync"]; bare[n] = v["bare_ms_per_sync"]
	ratio[n] = (v["bare_ms_per_sync"] > 0) ? v["cpu_ms_per_sync"] / v["bare_ms_per_sync"] : 0
	kb[n] = v["kb_per_idle_conn"]; busy[n] = v["server_core_busy"]; agents = v["agents"]; pinned = v["pinned"]
	aim[n] = v["p99_ms"] / 2000
}
END {
	if (!n) { print "no summary lines: did hamlet-load fail?" > "/dev/stderr"; exit 1 }
	printf "%d agents, load generator and server %s, medians over %d runs:\n", agents, (pinned == "yes") ? "pinned to one core each" : "NOT pinned (sharing the cores)", n
	printf "  %-44s %10s %12s %8s  %s\n", "figure", "median", "baseline", "ratio", "aim"
	printf "  %-44s %8.0f ms %12s %8.2f  p99 < 2,000 ms (ratio to the aim < 1)\n", "sync round p99", median(p99, n), "aim 2000 ms", median(aim, n)
	printf "  %-44s %7.3f ms %9.3f ms %8.2f  %s\n", "server CPU per agent sync (push 20, pull 80)", median(cpu, n), median(bare, n), median(ratio, n), "baseline: bare SQLite, same rows"
	printf "  %-44s %10.0f %12s %8s  (1000 / CPU per sync: projects to more cores)\n", "agent syncs per second one core serves", 1000 / median(cpu, n), "", ""
	printf "  %-44s %7.1f KB %12s %8s\n", "server RSS per idle connection (enrolled)", median(kb, n), "", ""
	printf "  %-44s %10.2f %12s %8s  (below 1: other work shared its core)\n", "server core busy during the syncs", median(busy, n), "", ""
}'
