#!/bin/bash
# Side-by-side untar and rm -rf through FUSE mounts of a local folder on a RAM-backed ext4
# (the disk never sets the pace, so the serving process's CPU shows): each round mounts each
# side in turn, times `tar xf` of a tarball into it and `rm -rf` of what it made, and reads
# the serving process's CPU from /proc/PID/stat. Run as root (loop mount).
#
#   bench/fuse-ab.sh ROUNDS TARBALL SIDE...
#
# A SIDE is a Berth checkout (its src-main/cli/berth.cjs serves, `local --rw`) or `bindfs`.
# Example: tar cf /tmp/doc.tar -C /usr/share doc && bench/fuse-ab.sh 3 /tmp/doc.tar . bindfs
set -euo pipefail
rounds=$1 tarball=$(realpath "$2"); shift 2
img=/dev/shm/berth-fuse-ab.img scr=$(mktemp -d)
truncate -s 4G "$img" && mkfs.ext4 -q -F "$img" && mount -o loop "$img" "$scr"
cleanup() { fusermount3 -u "$scr/m" 2>/dev/null || true; umount "$scr" 2>/dev/null || true; rm -f "$img"; rmdir "$scr"; }
trap cleanup EXIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for _ in $(seq "$rounds"); do
  for side in "$@"; do
    rm -rf "$scr/src" "$scr/m" && mkdir "$scr/src" "$scr/m"
    if [ "$side" = bindfs ]; then bindfs -f "$scr/src" "$scr/m" & pid=$!
    else (cd "$side" && exec node src-main/cli/berth.cjs mount fuse local --rw --path "$scr/src" "$scr/m" --foreground >/dev/null) & pid=$!; fi
    for _ in $(seq 100); do grep -q " $scr/m " /proc/self/mountinfo && break; sleep 0.1; done
    c0=$(cpu $pid) t0=$(date +%s.%N)
    tar xf "$tarball" -C "$scr/m"
    c1=$(cpu $pid) t1=$(date +%s.%N)
    rm -rf "${scr:?}/m/"*
    c2=$(cpu $pid) t2=$(date +%s.%N)
    hz=$(getconf CLK_TCK)
    awk -v s="$side" -v a="$t0" -v b="$t1" -v c="$t2" -v x="$c0" -v y="$c1" -v z="$c2" -v hz="$hz" \
      'BEGIN { printf "%-12s untar %6.2f s, CPU %6.2f s | rm -rf %6.2f s, CPU %6.2f s\n", s, b-a, (y-x)/hz, c-b, (z-y)/hz }'
    fusermount3 -u "$scr/m"; wait $pid 2>/dev/null || true
  done
done
