/* Hostile kernel sets: a submission is written by the party being graded, so
 * its kernels.json may try to read the grader's files (absolute paths, '..'
 * components, symlinks out of its folder), stall the build (a directory, a
 * FIFO, /dev/zero, a huge file) or pass compiler options of its choosing.
 * Each case is a real file tree made in a temporary folder and loaded as a
 * submission for the real softmax workload; each refusal must name the
 * manifest, the JSON field and the problem, and each legitimate look-alike
 * (a file named a..b.cl, a symlink that stays inside) must load. */
#include "kernelset.h"
#include "kg_test.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static char set[300]; /* the submission folder: <root>/set */

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0) {
        perror(path);
        exit(1);
    }
}

/* Makes <set>/<name> a symlink to `target`. */
static void make_link(const char *target, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", set, name);
    if (symlink(target, path) != 0) {
        perror(path);
        exit(1);
    }
}

/* A submission manifest with one softmax entry; `options` is the JSON text
 * of the "options" field, or NULL for none. */
static void write_manifest(const char *dir, const char *source, const char *language,
                           const char *options)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"kgrade_kernels\": 1, \"workloads\": {\"softmax\": {\n"
             "  \"source\": \"%s\", \"language\": \"%s\",%s%s%s\n"
             "  \"launches\": [{\"entry\": \"k\", \"grid\": [\"rows\"], \"block\": [32],\n"
             "                \"args\": [\"x\", \"y\", \"rows\", \"cols\"]}]}}}\n",
             source, language, options ? " \"options\": " : "", options ? options : "",
             options ? "," : "");
    kg_test_write_file(dir, "kernels.json", text);
}

/* The tree every case reads: <root>/outside.cl and <root>/set2/k.cl lie
 * outside the set (set2 shares the set's name as a prefix, so a check
 * without a '/' boundary would let it in); the rest is inside. */
static void make_tree(void)
{
    char path[512];
    make_dir(set);
    kg_test_write_file(root, "outside.cl", "kernel void k(void) {}\n");
    snprintf(path, sizeof path, "%s/set2", root);
    make_dir(path);
    kg_test_write_file(path, "k.cl", "kernel void k(void) {}\n");
    kg_test_write_file(set, "k.cl", "kernel void k(void) {}\n");
    kg_test_write_file(set, "a..b.cl", "kernel void k(void) {}\n");
    kg_test_write_file(set, "..b.cl", "kernel void k(void) {}\n");
    snprintf(path, sizeof path, "%s/sub", set);
    make_dir(path);
    kg_test_write_file(path, "k.cl", "kernel void k(void) {}\n");
    snprintf(path, sizeof path, "%s/adir", set);
    make_dir(path);
    snprintf(path, sizeof path, "%s/pipe.cl", set);
    if (mkfifo(path, 0600) != 0) {
        perror(path);
        exit(1);
    }
    /* One byte over the limit; sparse, so it costs no disk. */
    kg_test_write_file(set, "big.cl", "");
    snprintf(path, sizeof path, "%s/big.cl", set);
    if (truncate(path, (off_t)KG_MAX_SOURCE_BYTES + 1) != 0) {
        perror(path);
        exit(1);
    }
    make_link("k.cl", "link.cl");
    make_link("../k.cl", "sub/up.cl"); /* a '..' in a link target that stays inside */
    make_link("/etc/passwd", "passwd.cl");
    make_link("../set2/k.cl", "sibling.cl");
    make_link("../outside.cl", "outside-link.cl");
    make_link("/dev/zero", "zero.cl");
    make_link("..", "up"); /* a folder symlink out: "up/outside.cl" */
    make_link("nowhere.cl", "dangling.cl");
    make_link("loop.cl", "loop.cl");
}

typedef struct good_case {
    const char *source, *language, *options;
    const char *stored; /* e->options wanted */
} good_case;

static const good_case good_cases[] = {
    {"k.cl", "opencl", NULL, ""},
    {"a..b.cl", "opencl", NULL, ""}, /* '..' inside a name is not a component */
    {"..b.cl", "opencl", NULL, ""},
    {"./sub/k.cl", "opencl", NULL, ""},
    {"link.cl", "opencl", NULL, ""},
    {"sub/up.cl", "opencl", NULL, ""},
    {"k.cl", "portable", "[]", ""},
    {"k.cl", "opencl", "[\"-cl-mad-enable\", \"-cl-fast-relaxed-math\"]",
     "-cl-mad-enable -cl-fast-relaxed-math"},
    {"k.cl", "cuda", "[\"--use_fast_math\", \"--maxrregcount=64\", \"-ftz=true\", \"-std=c++20\"]",
     "--use_fast_math --maxrregcount=64 -ftz=true -std=c++20"},
    {"k.cl", "hip", "[\"-ffast-math\", \"-O3\"]", "-ffast-math -O3"},
};

static void test_accepted(const kg_workload *w)
{
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        const good_case *c = &good_cases[i];
        write_manifest(set, c->source, c->language, c->options);
        kg_kernel_entry *e = NULL;
        kg_error err = {0};
        int rc = kg_kernel_entry_load(w, set, &e, &err);
        KG_CHECK_MSG(rc == KG_OK && e, "case %zu (%s) refused: %s", i, c->source, err.message);
        if (!e)
            continue;
        const char *name = strrchr(c->source, '/') ? strrchr(c->source, '/') + 1 : c->source;
        KG_CHECK_CONTAINS(e->source_path, name);
        KG_CHECK_MSG(e->options && strcmp(e->options, c->stored) == 0, "case %zu: options '%s'", i,
                     e->options ? e->options : "(null)");
        kg_kernel_entry_free(e);
    }
}

typedef struct bad_case {
    const char *source, *language, *options;
    const char *where;  /* JSON path the message must name, after "kernels.json: " */
    const char *expect; /* what it must say */
} bad_case;

#define SRC "workloads.softmax.source: "
#define OPT "workloads.softmax.options"

static const bad_case bad_cases[] = {
    /* Paths out of the folder. */
    {"../outside.cl", "opencl", NULL, SRC, "source '../outside.cl' has a '..' component"},
    {"sub/../k.cl", "opencl", NULL, SRC, "has a '..' component; expected a relative path"},
    {"sub/..", "opencl", NULL, SRC, "has a '..' component"},
    {"", "opencl", NULL, SRC, "source is empty; expected a relative path"},
    {"/etc/passwd", "opencl", NULL, SRC, "source '/etc/passwd' is an absolute path"},
    {"passwd.cl", "opencl", NULL, SRC,
     "source 'passwd.cl' resolves to /etc/passwd, outside the kernel set's folder"},
    {"sibling.cl", "opencl", NULL, SRC, "set2/k.cl, outside the kernel set's folder"},
    {"outside-link.cl", "opencl", NULL, SRC, "outside.cl, outside the kernel set's folder"},
    {"up/outside.cl", "opencl", NULL, SRC, "outside the kernel set's folder"},
    {"zero.cl", "opencl", NULL, SRC, "resolves to /dev/zero, outside the kernel set's folder"},
    /* Files that are not sources. */
    {"adir", "opencl", NULL, SRC, "source 'adir' is a directory; expected a regular file"},
    {"pipe.cl", "opencl", NULL, SRC, "source 'pipe.cl' is a FIFO; expected a regular file"},
    {"big.cl", "opencl", NULL, SRC, "source 'big.cl' is 16777217 bytes; expected at most 16 MiB"},
    {"dangling.cl", "opencl", NULL, SRC, "source file 'dangling.cl' not found"},
    {"loop.cl", "opencl", NULL, SRC, "source 'loop.cl' cannot be read"},
    /* Compiler options off the allowlist. */
    {"k.cl", "opencl", "[\"-I/etc\"]", OPT "[0]: ",
     "'-I/etc' is not an allowed compiler option for opencl; allowed: -cl-mad-enable, "},
    {"k.cl", "cuda", "[\"--use_fast_math\", \"-I/etc\"]", OPT "[1]: ",
     "'-I/etc' is not an allowed compiler option for cuda; allowed: --use_fast_math, -lineinfo, "
     "--maxrregcount=N (16 to 255)"},
    {"k.cl", "cuda", "[\"-include\", \"/etc/passwd\"]",
     OPT "[0]: ", "'-include' is not an allowed compiler option for cuda"},
    {"k.cl", "cuda", "[\"--pre-include=/etc/passwd\"]",
     OPT "[0]: ", "'--pre-include=/etc/passwd' is not an allowed compiler option"},
    {"k.cl", "cuda", "[\"-o\"]", OPT "[0]: ", "'-o' is not an allowed compiler option"},
    {"k.cl", "cuda", "[\"-DN=4\"]",
     OPT "[0]: ", "'-DN=4' is not an allowed compiler option for cuda (defines go in \"defines\")"},
    {"k.cl", "opencl", "[\"-cl-mad-enable; rm -rf /\"]",
     OPT "[0]: ", "'-cl-mad-enable; rm -rf /' is not an allowed compiler option"},
    {"k.cl", "opencl", "[\"-cl-mad-enable -I/etc\"]",
     OPT "[0]: ", "'-cl-mad-enable -I/etc' is not an allowed compiler option"},
    {"k.cl", "opencl", "[\"--use_fast_math\"]",
     OPT "[0]: ", "'--use_fast_math' is not an allowed compiler option for opencl"},
    {"k.cl", "cuda", "[\"--maxrregcount=9999\"]", OPT "[0]: ",
     "'--maxrregcount=9999': expected --maxrregcount=N with N an integer from 16 to 255"},
    {"k.cl", "cuda", "[\"--maxrregcount=+32\"]", OPT "[0]: ", "expected --maxrregcount=N"},
    {"k.cl", "cuda", "[\"--maxrregcount=32 -I/etc\"]", OPT "[0]: ", "expected --maxrregcount=N"},
    {"k.cl", "cuda", "[\"--maxrregcount\"]", OPT "[0]: ", "expected --maxrregcount=N"},
    {"k.cl", "cuda", "[\"-ftz=maybe\"]", OPT "[0]: ", "'-ftz=maybe': expected -ftz=true|false"},
    {"k.cl", "cuda", "[\"-std=c++98\"]", OPT "[0]: ", "expected -std=c++17|c++20"},
    {"k.cl", "cuda", "[\"--use_fast_math=1\"]", OPT "[0]: ", "expected --use_fast_math (no value)"},
    {"k.cl", "cuda", "[\"-ftz=true\", \"-ftz=false\"]",
     OPT "[1]: ", "option '-ftz' is given twice"},
    {"k.cl", "cuda", "[7]", OPT "[0]: ", "expected a compiler option (a string)"},
    {"k.cl", "cuda", "\"--use_fast_math\"", OPT ": ", "expected an array"},
    {"k.cl", "cuda",
     "[\"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", "
     "\"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", "
     "\"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\", \"-lineinfo\"]",
     OPT ": ", "17 options; expected at most 16"},
    {"k.cl", "portable", "[\"-cl-mad-enable\"]",
     OPT "[0]: ", "compiler options are not allowed for language portable"},
    {"k.cl", "ptx", "[\"-lineinfo\"]", OPT "[0]: ", "language ptx takes no compiler options"},
};

static void test_refused(const kg_workload *w)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        write_manifest(set, c->source, c->language, c->options);
        kg_kernel_entry *e = NULL;
        kg_error err = {0};
        int rc = kg_kernel_entry_load(w, set, &e, &err);
        KG_CHECK_MSG(rc == KG_ERR_INVALID && e == NULL, "case %zu (%s, %s) loaded (rc %d)", i,
                     c->source, c->options ? c->options : "", rc);
        char where[512];
        snprintf(where, sizeof where, "%s/kernels.json: %s", set, c->where);
        KG_CHECK_CONTAINS(err.message, where);
        KG_CHECK_CONTAINS(err.message, c->expect);
        kg_kernel_entry_free(e);
    }
}

/* The manifest itself is read only when it is a regular file of bounded
 * size: a FIFO would block the read, /dev/zero would never end. */
static void test_manifest_not_a_file(const kg_workload *w)
{
    static const struct {
        const char *folder, *expect;
    } cases[] = {{"fifo-set", "kernels.json: is a FIFO; expected a JSON file"},
                 {"zero-set", "kernels.json: is a device; expected a JSON file"},
                 {"dir-set", "kernels.json: is a directory; expected a JSON file"},
                 {"big-set", "kernels.json: 16777217 bytes; expected at most 16 MiB"}};
    char dir[400], path[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root, cases[i].folder);
        make_dir(dir);
        snprintf(path, sizeof path, "%s/kernels.json", dir);
        int made = 0;
        if (i == 0)
            made = mkfifo(path, 0600);
        else if (i == 1)
            made = symlink("/dev/zero", path);
        else if (i == 2)
            made = mkdir(path, 0700);
        else {
            kg_test_write_file(dir, "kernels.json", "");
            made = truncate(path, (off_t)KG_MAX_SOURCE_BYTES + 1);
        }
        KG_CHECK_MSG(made == 0, "could not make %s", path);
        kg_kernel_entry *e = NULL;
        kg_error err = {0};
        KG_CHECK_INT(kg_kernel_entry_load(w, dir, &e, &err), KG_ERR_INVALID);
        KG_CHECK(e == NULL);
        KG_CHECK_CONTAINS(err.message, cases[i].expect);
        kg_kernel_entry_free(e);
    }
}

/* The allowlist as a function: what docs/formats.md lists. */
static void test_option_check(void)
{
    kg_error why = {0};
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_OPENCL, "-cl-denorms-are-zero", &why), 0);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "--maxrregcount=16", &why), 0);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "--maxrregcount=255", &why), 0);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "--maxrregcount=15", &why), KG_ERR_INVALID);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "--maxrregcount=256", &why), KG_ERR_INVALID);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "-prec-sqrt=false", &why), 0);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "-fmad=", &why), KG_ERR_INVALID);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_CUDA, "", &why), KG_ERR_INVALID);
    KG_CHECK_CONTAINS(why.message, "'' is not an allowed compiler option for cuda");
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_HIP, "-O3", &why), 0);
    KG_CHECK_INT(kg_compiler_option_check(KG_LANG_OPENCL, "-O3", &why), KG_ERR_INVALID);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/kgrade-test-hostile-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(set, sizeof set, "%s/set", root);
    make_tree();
    kg_workload *w = NULL;
    kg_error err = {0};
    KG_CHECK_MSG(kg_workload_load(KG_SOURCE_DIR "/baselines/softmax", &w, &err) == KG_OK, "%s",
                 err.message);
    if (w) {
        test_accepted(w);
        test_refused(w);
        test_manifest_not_a_file(w);
    }
    test_option_check();
    kg_workload_free(w);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return kg_test_finish("test_hostile_manifests");
}
