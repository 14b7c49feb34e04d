#!/usr/bin/env python3
"""Checks a Mach-O executable linked on Linux for macOS (packaging/check-platforms.sh, stage
macos), where nothing can run it:

    check-macho.py FILE ARCH        ARCH: x86_64 or arm64

FILE must be a 64-bit Mach-O executable (MH_EXECUTE, with an entry point) for ARCH,
position-independent, with a two-level namespace; the only library it loads is libSystem
(/usr/lib/libSystem.B.dylib), and every symbol left undefined is bound to it: a function
that is not in macOS's libc (a glibc extension, say) fails the link or shows up here.
An arm64 binary must carry a code signature (arm64 macOS runs no unsigned code; Zig's
linker signs ad hoc). Prints one line of facts; exit status 1, with the reasons, otherwise.
"""
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
CPU = {"x86_64": 0x01000007, "arm64": 0x0100000C}
MH_EXECUTE = 2
MH_TWOLEVEL, MH_PIE = 0x80, 0x200000
LC_SYMTAB, LC_CODE_SIGNATURE, LC_BUILD_VERSION, LC_MAIN = 0x2, 0x1D, 0x32, 0x80000028
DYLIB_COMMANDS = {0xC, 0x18 | 0x80000000, 0x1F | 0x80000000, 0x20, 0x23 | 0x80000000}
LIBSYSTEM = "/usr/lib/libSystem.B.dylib"
N_STAB, N_TYPE, N_EXT, N_UNDF = 0xE0, 0x0E, 0x01, 0x0
SPECIAL_ORDINALS = {0: "this image", 0xFE: "dynamic lookup", 0xFF: "the main executable"}


def c_string(data, start):
    end = data.index(b"\0", start)
    return data[start:end].decode("utf-8", "replace")


def version(packed):
    return f"{packed >> 16}.{(packed >> 8) & 0xFF}.{packed & 0xFF}"


def check(data, arch):
    problems = []
    if len(data) < 32 or struct.unpack_from("<I", data)[0] != MH_MAGIC_64:
        return ["not a 64-bit little-endian Mach-O file (no universal binary is expected)"], ""
    cputype, _, filetype, ncmds, _, flags, _ = struct.unpack_from("<iiIIIII", data, 4)
    if cputype != CPU[arch]:
        problems.append(f"CPU type {cputype:#x}, not {arch} ({CPU[arch]:#x})")
    if filetype != MH_EXECUTE:
        problems.append(f"file type {filetype}, not an executable (MH_EXECUTE)")
    if not flags & MH_TWOLEVEL:
        problems.append("flat namespace: undefined symbols are not bound to a library")
    if not flags & MH_PIE:
        problems.append("not position-independent (MH_PIE)")

    dylibs, symtab, entry, signed, minos = [], None, False, False, "?"
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        if cmd in DYLIB_COMMANDS:
            name_offset = struct.unpack_from("<I", data, offset + 8)[0]
            dylibs.append(c_string(data, offset + name_offset))
        elif cmd == LC_SYMTAB:
            symtab = struct.unpack_from("<IIII", data, offset + 8)
        elif cmd == LC_MAIN:
            entry = True
        elif cmd == LC_CODE_SIGNATURE:
            signed = True
        elif cmd == LC_BUILD_VERSION:
            minos = version(struct.unpack_from("<I", data, offset + 12)[0])
        offset += size

    if not entry:
        problems.append("no entry point (LC_MAIN)")
    if arch == "arm64" and not signed:
        problems.append("no code signature: arm64 macOS would refuse to run it")
    others = [d for d in dylibs if d != LIBSYSTEM]
    if others or LIBSYSTEM not in dylibs:
        problems.append("loads " + (", ".join(dylibs) or "no library") + f"; expected only {LIBSYSTEM}")
    if symtab is None:
        return problems + ["no symbol table (LC_SYMTAB)"], ""

    symoff, nsyms, stroff, _ = symtab
    undefined, stray = 0, []
    for i in range(nsyms):
        strx, ntype, _, desc, _ = struct.unpack_from("<IBBhQ", data, symoff + 16 * i)
        if ntype & N_STAB or (ntype & N_TYPE) != N_UNDF or not ntype & N_EXT:
            continue
        undefined += 1
        ordinal = (desc >> 8) & 0xFF
        if 1 <= ordinal <= len(dylibs) and dylibs[ordinal - 1] == LIBSYSTEM:
            continue
        where = SPECIAL_ORDINALS.get(ordinal) or (
            dylibs[ordinal - 1] if ordinal <= len(dylibs) else f"library #{ordinal}")
        stray.append(f"{c_string(data, stroff + strx)} (from {where})")
    if stray:
        problems.append(f"{len(stray)} undefined symbols not from libSystem: " + ", ".join(stray[:40]))
    facts = (f"Mach-O 64-bit {arch} executable, PIE, macOS >= {minos}"
             f"{', signed' if signed else ''}; loads {', '.join(dylibs)}; "
             f"{undefined} undefined symbols, all from libSystem")
    return problems, facts


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CPU:
        sys.exit(f"usage: {sys.argv[0]} FILE {{{','.join(CPU)}}}")
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        problems, facts = check(data, sys.argv[2])
    except (struct.error, ValueError) as e:  # truncated or malformed load commands
        problems, facts = [f"malformed Mach-O file ({e})"], ""
    if problems:
        for problem in problems:
            print(f"{sys.argv[1]}: {problem}", file=sys.stderr)
        sys.exit(1)
    print(facts)


if __name__ == "__main__":
    main()
