#!/usr/bin/env bash
# Runs a program as root inside a throw-away QEMU virtual machine (TCG, no KVM needed) that
# boots Debian's own kernel (linux-image-amd64, from /boot) with an initramfs holding only the
# program, its shared libraries, iproute2's `ip` (busybox's has no `xfrm`), a static busybox and
# the kernel modules ESP needs. Used by the XFRM tests when the host kernel has XFRM but no ESP.
#
#   run-vm-e2e.sh PROGRAM [ARGUMENT...]
#
# The program's output is the VM console's (its lines prefixed `E2E `). Exit status: the
# program's (0 = pass), 1 when the VM did not finish (timeout, panic), 77 when the VM cannot be
# run here at all (no qemu-system-x86_64, no kernel image, no static busybox...), with the reason.
#
# Environment: OUTPOST_VM_KERNEL (default: the newest /boot/vmlinuz-*), OUTPOST_VM_TIMEOUT
# (seconds, default 420), OUTPOST_VM_MEMORY (MiB, default 1024), OUTPOST_VM_KEEP=1 keeps the
# work directory (initramfs, console log) and prints its path.
set -euo pipefail

unavailable() { echo "run-vm-e2e: unavailable: $*" >&2; exit 77; }
fail() { echo "run-vm-e2e: $*" >&2; exit 1; }

[ $# -ge 1 ] || fail "usage: run-vm-e2e.sh PROGRAM [ARGUMENT...]"
program=$(readlink -f "$1"); shift
[ -x "$program" ] || fail "$program is not an executable"

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || unavailable "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || unavailable "busybox not found (Debian package busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
    unavailable "$busybox is not statically linked (Debian package busybox-static)"
fi
for tool in cpio gzip ldd timeout; do
    command -v "$tool" >/dev/null || unavailable "$tool not found"
done
ip_binary=""
for candidate in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
    if [ -x "$candidate" ] && [ "$(readlink -f "$candidate")" != "$(readlink -f "$busybox")" ]; then ip_binary=$candidate; break; fi
done
[ -n "$ip_binary" ] || unavailable "iproute2's ip not found (Debian package iproute2)"

kernel=${OUTPOST_VM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)}
[ -n "$kernel" ] && [ -r "$kernel" ] || unavailable "no readable kernel image in /boot (Debian package linux-image-amd64)"
version=${kernel##*/vmlinuz-}
moddir=/lib/modules/$version
[ -r "$moddir/modules.dep" ] || unavailable "no $moddir/modules.dep for kernel $version"

timeout_seconds=${OUTPOST_VM_TIMEOUT:-420}
memory=${OUTPOST_VM_MEMORY:-1024}
work=$(mktemp -d /tmp/outpost-vm.XXXXXX)
qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill -9 "$qemu_pid" 2>/dev/null || true; fi
    if [ "${OUTPOST_VM_KEEP:-0}" = 1 ]; then echo "run-vm-e2e: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,run,tmp,etc,lib/modules}

# busybox for init and the few commands the program spawns; iproute2's ip; the program.
cp "$busybox" "$root/bin/busybox"
for applet in sh mount umount insmod poweroff mkdir cat echo uname rm sleep sync ls dmesg; do
    ln -s busybox "$root/bin/$applet"
done
cp "$ip_binary" "$root/sbin/ip"
# ip resolves and prints protocol names (udp, tcp, ipv6-icmp) through /etc/protocols.
[ -r /etc/protocols ] || unavailable "/etc/protocols is missing (Debian package netbase)"
cp /etc/protocols "$root/etc/protocols"
cp "$program" "$root/bin/e2e-program"

# Shared libraries, at the paths the dynamic loader expects.
copy_libraries() {
    ldd "$1" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' | while read -r library; do
        [ -e "$root$library" ] && continue
        mkdir -p "$root$(dirname "$library")"
        cp -L "$library" "$root$library"
    done
}
copy_libraries "$program"
copy_libraries "$ip_binary"
ld_so_paths=$(ldd "$program" | awk '/=> \//{print $3}' | xargs -n1 dirname | sort -u | tr '\n' ':')

# Kernel modules, dependencies first, in the order ESP needs them (the kernel's RNG for ESP IVs
# needs drbg and jitterentropy; GCM through aesni needs cryptd and crypto_simd).
wanted="xfrm_algo xfrm_user esp4 esp6 ah4 authenc gcm ctr gf128mul ghash-generic seqiv echainiv cryptd crypto_simd aesni-intel sha256-ssse3 ghash-clmulni-intel sha3_generic sha512_generic jitterentropy_rng drbg veth"
declare -A seen=()
order=()
module_path() {  # name -> relative path from modules.dep ('' if built in or absent)
    local name=${1//-/_}
    awk -F: -v want="$name" '{ n=$1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n); if (n == want) { print $1; exit } }' "$moddir/modules.dep"
}
visit() {  # relative path
    local path=$1 dep
    [ -n "${seen[$path]:-}" ] && return
    seen[$path]=1
    for dep in $(awk -F: -v p="$path" '$1 == p { print $2 }' "$moddir/modules.dep"); do visit "$dep"; done
    order+=("$path")
}
for module in $wanted; do
    path=$(module_path "$module")
    if [ -z "$path" ]; then
        if grep -q "/${module//-/[-_]}.ko" "$moddir/modules.builtin" 2>/dev/null; then continue; fi
        echo "run-vm-e2e: note: module $module not found for $version" >&2
        continue
    fi
    visit "$path"
done
: > "$root/modules.order"
for path in "${order[@]}"; do
    case "$path" in
        *.ko) cp "$moddir/$path" "$root/lib/modules/" ;;
        *.ko.xz) xz -dc "$moddir/$path" > "$root/lib/modules/$(basename "${path%.xz}")" ;;
        *.ko.zst) zstd -qdc "$moddir/$path" > "$root/lib/modules/$(basename "${path%.zst}")" ;;
        *) continue ;;
    esac
    base=$(basename "$path"); echo "${base%.ko*}.ko" >> "$root/modules.order"
done

# The program's arguments, quoted for the init script.
arguments=""
for argument in "$@"; do arguments="$arguments '${argument//\'/\'\\\'\'}'"; done

cat > "$root/init" <<EOF
#!/bin/sh
export PATH=/bin:/sbin
export LD_LIBRARY_PATH=$ld_so_paths
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for module in \$(cat /modules.order); do
    insmod /lib/modules/\$module 2>/dev/null || echo "E2E-VM insmod \$module failed"
done
ip link set lo up
echo "E2E-VM start \$(uname -r)"
/bin/e2e-program $arguments
echo "E2E-VM exit \$?"
sync
poweroff -f
EOF
chmod 0755 "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

echo "run-vm-e2e: booting $kernel with $(du -h "$work/initramfs.gz" | cut -f1) initramfs ($(wc -l < "$root/modules.order") modules), timeout ${timeout_seconds}s" >&2
console=$work/console.log
timeout --kill-after=10 "$timeout_seconds" "$qemu" \
    -accel tcg -cpu max -smp 1 -m "$memory" \
    -nographic -no-reboot -nodefaults -serial stdio -net none \
    -kernel "$kernel" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=3" \
    < /dev/null > "$console" 2>&1 &
qemu_pid=$!
status=0
wait "$qemu_pid" || status=$?
qemu_pid=""

tr -d '\r' < "$console" | grep -E '^(E2E|E2E-VM) ' || true
exit_line=$(tr -d '\r' < "$console" | grep -E '^E2E-VM exit [0-9]+' | tail -n 1 || true)
if [ -z "$exit_line" ]; then
    echo "run-vm-e2e: the VM did not finish (qemu status $status); last console lines:" >&2
    tr -d '\r' < "$console" | tail -n 40 >&2
    exit 1
fi
exit "${exit_line##* }"
