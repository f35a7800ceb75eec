"""Keeps a submitted Triton source from running Python of its own while
kgrade compiles it.

A Triton kernel is Python: loading its module evaluates decorators,
annotations and defaults, and Triton's front end calls, at compile time,
any Python callable a @jit body reaches (`tl.core.builtins.exec(...)`, a
jit function's raw `.fn`, a module imported from inside triton). Code run
there runs as the grading user, next to the cache that holds the
baseline's compiled kernels. Two walls, each enough on its own for what it
covers (docs/integrity.md, "Code that runs while a kernel is built"):

1. police_front_end(): inside @jit bodies, every name, attribute, getattr()
   result and call target must be part of Triton's language (its builtins,
   jit functions, dtypes, constexprs, plain numbers and strings, modules
   under triton.language); anything else is refused with what was reached.
   The filter in kgrade_triton.py already keeps module-level code to
   imports, literals and @triton.jit definitions with plain signatures.
2. confine_writes(): Linux Landlock, applied to the compiling process
   before the submitted module is loaded: it may create, change or delete
   files only beneath its own staging folder (and write /dev/null), bind
   or connect no TCP socket, and (ABI 6+) signal no process outside it.
   Reading stays open (Python, Triton and the CUDA toolkit must be read).
"""

import ctypes
import os
import types

# linux/landlock.h. The syscall numbers are the same on every architecture
# (allocated after the unification of the syscall tables).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

FS_WRITE_FILE = 1 << 1
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13        # ABI 2
FS_TRUNCATE = 1 << 14     # ABI 3
FS_IOCTL_DEV = 1 << 15    # ABI 5
NET_BIND_TCP = 1 << 0     # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1                # ABI 6

# Every right that changes the file system (ABI 1), then the later ones.
FS_CHANGES_V1 = (FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR
                 | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi():
    """The kernel's Landlock ABI version, or (0, why) when there is none."""
    libc = _libc()
    abi = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    if abi < 0:
        return 0, os.strerror(ctypes.get_errno())
    return abi, None


def _rights(abi):
    """(file-system rights handled, rights a file rule may hold, net, scope)."""
    fs = FS_CHANGES_V1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    fs |= FS_IOCTL_DEV if abi >= 5 else 0
    file_rights = FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0) | (FS_IOCTL_DEV if abi >= 5 else 0)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scope = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    return fs, file_rights, net, scope


def _add_path_rule(libc, ruleset, path, rights):
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(ctypes.c_long(SYS_LANDLOCK_ADD_RULE), ctypes.c_int(ruleset),
                        ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                        ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def confine_writes(folder):
    """Restricts this process and its children for good: file-system changes
    only beneath `folder` (and writes to /dev/null). Returns the line the
    results record ("sandbox"); says "none: ..." where the kernel has no
    Landlock, and the compile goes on under the front-end policy alone."""
    abi, why = landlock_abi()
    if abi <= 0:
        return f"none: Landlock unavailable ({why})"
    fs, file_rights, net, scope = _rights(abi)
    attr = _RulesetAttr(fs, net, scope)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    libc = _libc()
    ruleset = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return f"none: landlock_create_ruleset failed ({os.strerror(ctypes.get_errno())})"
    try:
        _add_path_rule(libc, ruleset, folder, fs)
        _add_path_rule(libc, ruleset, "/dev/null", file_rights)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(ctypes.c_long(SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return describe(abi)


def describe(abi):
    """What confine_writes() denies under Landlock ABI `abi` (> 0)."""
    _, _, net, scope = _rights(abi)
    denied = ["file changes outside its folder"]
    denied += ["TCP"] if net else []
    denied += ["signals and abstract sockets outside it"] if scope else []
    return f"landlock ABI {abi}: " + ", ".join(denied) + " denied"


def recorded_confinement(child_said):
    """The "sandbox" line to record, decided outside the sandbox: what this
    kernel's Landlock gives, unless the child found it could not confine
    itself (a child claiming more than the kernel has is not believed)."""
    abi, why = landlock_abi()
    if abi <= 0:
        return f"none: Landlock unavailable ({why})"
    if isinstance(child_said, str) and child_said.startswith("none: "):
        return child_said
    return describe(abi)


# ---- Triton's front end ----------------------------------------------------------

class Refused(Exception):
    """A @jit body reached Python outside Triton's language."""


def _describe(value):
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    module = getattr(value, "__module__", None)
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if name and module:
        return f"{module}.{name}"
    return type(value).__name__


def _language_module(name):
    return name == "triton.language" or name.startswith("triton.language.")


def _make_acceptable(triton, cg):
    """The test every value reachable from a @jit body must pass."""
    from triton.runtime.jit import ConstexprFunction, JITCallable
    lang = triton.language
    plain = {id(triton.cdiv), id(triton.next_power_of_2)}
    plain.update(id(f) for f in cg.CodeGenerator.builtin_namespace.values())
    scalars = (bool, int, float, complex, str, bytes, slice, range, type(None), type(Ellipsis))

    def acceptable(v, depth=0):
        if isinstance(v, scalars) or id(v) in plain:
            return True
        if isinstance(v, (tuple, list)):
            return depth < 8 and all(acceptable(x, depth + 1) for x in v)
        if isinstance(v, types.ModuleType):
            return v.__name__ == "triton" or _language_module(v.__name__)
        if isinstance(v, ConstexprFunction):
            return getattr(getattr(v, "fn", None), "__module__", "").startswith("triton.")
        if isinstance(v, JITCallable) or cg._is_triton_value(v) or isinstance(v, lang.dtype):
            return True
        if isinstance(v, cg.BoundJITMethod):
            return cg._is_triton_value(v.__self__)
        if getattr(v, "__triton_builtin__", False) or getattr(v, "__triton_aggregate__", False):
            return True
        if isinstance(v, (types.MethodType, types.BuiltinMethodType)):
            return cg._is_triton_value(getattr(v, "__self__", None))
        module = getattr(v, "__module__", None)
        return isinstance(module, str) and _language_module(module) and (
            isinstance(v, type) or callable(v))

    return acceptable


def police_front_end(triton):
    """Wraps Triton's code generator (triton/compiler/code_generator.py) so
    that a @jit body can only reach Triton's language. Raises RuntimeError
    when this Triton lacks the methods wrapped (a version kgrade was not
    checked against): compiling without the policy is not an option."""
    from triton.compiler import code_generator as cg
    gen = cg.CodeGenerator
    if getattr(gen, "_kgrade_policed", False):
        return
    needed = ("__init__", "get_Attribute", "call_Function", "builtin_namespace")
    missing = [n for n in needed if not hasattr(gen, n)]
    if missing or not hasattr(cg, "BoundJITMethod") or not hasattr(cg, "_is_triton_value"):
        raise RuntimeError(f"triton {triton.__version__}: code_generator lacks {missing or 'helpers'}"
                           " that kgrade_sandbox.py wraps; check the policy against this version")

    def vet(value, what):
        if not acceptable(value):
            raise Refused(f"refused: {what} is {_describe(value)}, which is not part of Triton's "
                          "language (a @jit body may use triton.language, jit functions, "
                          "constexprs and plain numbers; kgrade runs no other Python of a "
                          "submission)")
        return value

    def vet_name(name):
        if name.startswith("_") and name not in ("_",):
            raise Refused(f"refused: attribute {name}: a @jit body may not read private or "
                          "special attributes")
        return name

    original_init, original_attr, original_call = gen.__init__, gen.get_Attribute, gen.call_Function

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        lookup = self.dereference_name
        self.dereference_name = lambda name: vet(lookup(name), f"the name {name}")

    def get_Attribute(self, lhs, attr):
        return vet(original_attr(self, lhs, vet_name(attr)), f"attribute .{attr}")

    def call_Function(self, node, fn, args, kws):
        vet(fn, "the function called")
        return vet(original_call(self, node, fn, args, kws), f"the result of {_describe(fn)}")

    def policed_getattr(obj, name, *default):
        return vet(getattr(obj, vet_name(name), *default), f"getattr(..., {name!r})")

    def policed_hasattr(obj, name):
        return hasattr(obj, vet_name(name))

    # getattr and hasattr first: acceptable() lets the builtins through.
    gen.builtin_namespace = dict(gen.builtin_namespace, getattr=policed_getattr,
                                 hasattr=policed_hasattr)
    acceptable = _make_acceptable(triton, cg)
    gen.__init__, gen.get_Attribute, gen.call_Function = __init__, get_Attribute, call_Function
    gen._kgrade_policed = True
