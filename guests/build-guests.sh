#!/usr/bin/env bash
# build-guests.sh OUTDIR - assemble and link every hvlab guest image.
#
# Each guests/src/main/asm/NAME.S becomes OUTDIR/NAME.elf. The sources are plain GNU as input
# (shared code comes in through .include from src/main/asm/include), so only binutils is
# needed: no C compiler or preprocessor. The symbol table is kept, since hvlab names addresses
# in traces and reports with it. Silent on success; warnings are treated as errors.
set -euo pipefail

if ! command -v as >/dev/null 2>&1 || ! command -v ld >/dev/null 2>&1; then
    echo "hvlab guests: GNU binutils (as, ld) not found; install binutils" >&2
    exit 1
fi

if [ "$#" -ne 1 ]; then
    echo "usage: build-guests.sh OUTDIR" >&2
    exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
asm_dir="$script_dir/src/main/asm"
out_dir=$1
mkdir -p "$out_dir"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shopt -s nullglob
sources=("$asm_dir"/*.S)
if [ "${#sources[@]}" -eq 0 ]; then
    echo "hvlab guests: no sources in $asm_dir" >&2
    exit 1
fi

for src in "${sources[@]}"; do
    name=$(basename "$src" .S)
    as --64 --fatal-warnings -I "$asm_dir/include" -o "$work/$name.o" "$src"
    ld -m elf_x86_64 --fatal-warnings -z max-page-size=0x1000 -z noexecstack \
        -T "$asm_dir/guest.ld" -o "$out_dir/$name.elf" "$work/$name.o"
done
