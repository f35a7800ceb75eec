/* Kernel sources as the compiler reads them (source_text.h): includes
 * inside the set's folder are inlined and hashed, everything else that
 * could bring in text from outside the folder is refused, however it is
 * spelled. */
#include "kg_test.h"
#include "sha256.h"
#include "source_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256], set[300];

/* Loads set/k.<ext> written with `text`; returns the status. */
static int load(const char *text, kg_language lang, kg_source_text *out, kg_error *err)
{
    kg_test_write_file(set, "k.src", text);
    char path[400];
    snprintf(path, sizeof path, "%s/k.src", set);
    memset(err, 0, sizeof *err);
    return kg_source_text_load(path, set, lang, out, err);
}

static void expect_refused(const char *text, kg_language lang, const char *why)
{
    kg_source_text s;
    kg_error err;
    int rc = load(text, lang, &s, &err);
    KG_CHECK_MSG(rc == KG_ERR_BUILD && s.refused, "accepted: %s", text);
    KG_CHECK_CONTAINS(err.message, why);
    KG_CHECK_CONTAINS(err.message, "k.src:");
    kg_source_text_free(&s);
}

static void expect_accepted(const char *text, kg_language lang)
{
    kg_source_text s;
    kg_error err;
    int rc = load(text, lang, &s, &err);
    KG_CHECK_MSG(rc == KG_OK, "refused: %s (%s)", text, err.message);
    kg_source_text_free(&s);
}

static void test_plain_source_is_unchanged(void)
{
    const char *text = "KG_KERNEL void k(void)\n{\n}\n";
    kg_source_text s;
    kg_error err;
    KG_CHECK_INT(load(text, KG_LANG_PORTABLE, &s, &err), KG_OK);
    KG_CHECK_INT(s.size, strlen(text));
    KG_CHECK(s.text && memcmp(s.text, text, s.size) == 0);
    char hex[65];
    kg_sha256_hex(text, strlen(text), hex);
    KG_CHECK(strcmp(s.sha256, hex) == 0);
    KG_CHECK_INT(cJSON_GetArraySize(s.files), 1);
    kg_source_text_free(&s);
}

/* An include inside the folder is inlined, so the hash covers it: editing
 * the header changes the recorded hash. */
static void test_include_inside_is_inlined_and_hashed(void)
{
    char inc[400];
    snprintf(inc, sizeof inc, "%s/inc", set);
    mkdir(inc, 0700);
    kg_test_write_file(inc, "h.h", "#define SECRET 42\n");
    const char *text = "#include \"inc/h.h\"\nint x = SECRET;\n";
    kg_source_text a, b;
    kg_error err;
    KG_CHECK_INT(load(text, KG_LANG_OPENCL, &a, &err), KG_OK);
    KG_CHECK(a.text && strstr(a.text, "#define SECRET 42") != NULL);
    KG_CHECK(a.text && strstr(a.text, "#include") == NULL);
    KG_CHECK(a.text && strstr(a.text, "#line 2 \"") != NULL); /* back in k.src after it */
    KG_CHECK_INT(cJSON_GetArraySize(a.files), 2);
    kg_test_write_file(inc, "h.h", "#define SECRET 43\n");
    KG_CHECK_INT(load(text, KG_LANG_OPENCL, &b, &err), KG_OK);
    KG_CHECK(strcmp(a.sha256, b.sha256) != 0);
    kg_source_text_free(&a);
    kg_source_text_free(&b);
    /* Spelled with the digraph, or split by a line splice: the same. */
    expect_accepted("%:include \"inc/h.h\"\n", KG_LANG_OPENCL);
    expect_accepted("#\\\ninclude \"inc/h.h\"\n", KG_LANG_OPENCL);
}

static void test_includes_leaving_the_folder_are_refused(void)
{
    kg_test_write_file(root, "outside.h", "#define SECRET 1\n");
    expect_refused("#include \"../outside.h\"\n", KG_LANG_OPENCL, "outside the kernel set's");
    expect_refused("#include \"/etc/hostname\"\n", KG_LANG_PORTABLE, "by a relative path");
    char link[400], target[400];
    snprintf(link, sizeof link, "%s/link.h", set);
    snprintf(target, sizeof target, "%s/outside.h", root);
    KG_CHECK_INT(symlink(target, link), 0);
    expect_refused("#include \"link.h\"\n", KG_LANG_CUDA, "outside the kernel set's");
    /* However the directive is spelled. */
    expect_refused("%:include \"../outside.h\"\n", KG_LANG_OPENCL, "outside the kernel set's");
    expect_refused("#\\\ninclude \"../outside.h\"\n", KG_LANG_OPENCL, "outside the kernel set's");
    expect_refused("#inc\\\nlude \"../outside.h\"\n", KG_LANG_OPENCL, "outside the kernel set's");
    expect_refused("/* c */ # /* c */ include \"../outside.h\"\n", KG_LANG_OPENCL,
                   "outside the kernel set's");
    expect_refused("/* a comment\n over lines */ #include \"inc/h.h\"\n", KG_LANG_OPENCL,
                   "after a comment that began on an earlier line");
    expect_refused("#define F \"../outside.h\"\n#include F\n", KG_LANG_OPENCL, "computed include");
    expect_refused("#include_next \"inc/h.h\"\n", KG_LANG_CUDA, "#include_next is not allowed");
    expect_refused("#import \"inc/h.h\"\n", KG_LANG_CUDA, "#import is not allowed");
    expect_refused("#__include_macros \"inc/h.h\"\n", KG_LANG_OPENCL, "is not allowed");
    expect_refused("#embed \"../outside.h\"\n", KG_LANG_OPENCL, "#embed is not allowed");
    expect_refused("#include \"k.src\"\n", KG_LANG_OPENCL, "nested deeper than");
}

static void test_text_that_only_looks_like_an_include(void)
{
    expect_accepted("// #include \"../outside.h\"\n", KG_LANG_OPENCL);
    expect_accepted("/* #include \"../outside.h\" */\n", KG_LANG_OPENCL);
    expect_accepted("const char *s = \"#include \\\"../outside.h\\\"\";\n", KG_LANG_CUDA);
}

static void test_system_headers(void)
{
    expect_accepted("#include <cuda_fp16.h>\n", KG_LANG_CUDA);
    expect_accepted("#include <hip/hip_runtime.h>\n", KG_LANG_HIP);
    expect_refused("#include <stdio.h>\n", KG_LANG_CUDA, "toolchain's own headers");
    expect_refused("#include <cuda_fp16.h>\n", KG_LANG_OPENCL, "toolchain's own headers");
    expect_refused("#include <cuda/../../etc/passwd>\n", KG_LANG_CUDA, "toolchain's own headers");
}

static void test_inline_assembly(void)
{
    expect_refused("__asm__(\".incbin \\\"/etc/passwd\\\"\");\n", KG_LANG_OPENCL,
                   "inline assembly ('__asm__')");
    expect_refused("void f(void) { asm volatile(\"nop\"); }\n", KG_LANG_PORTABLE,
                   "inline assembly ('asm')");
    expect_accepted("__device__ void f() { asm volatile(\"membar.gl;\"); }\n", KG_LANG_CUDA);
    expect_accepted("const char *s = \"__asm__\"; /* asm */\n", KG_LANG_OPENCL);
    expect_accepted("int plasma = 1, asmx = 2;\n", KG_LANG_OPENCL);
}

static void test_binary_languages_are_hashed_as_bytes(void)
{
    const char bytes[] = "\x7f"
                         "ELF\0\1#include \"../outside.h\"";
    char path[400];
    snprintf(path, sizeof path, "%s/k.cubin", set);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, sizeof bytes, f);
    fclose(f);
    kg_source_text s;
    kg_error err = {0};
    KG_CHECK_INT(kg_source_text_load(path, set, KG_LANG_CUBIN, &s, &err), KG_OK);
    KG_CHECK_INT(s.size, sizeof bytes);
    char hex[65];
    kg_sha256_hex(bytes, sizeof bytes, hex);
    KG_CHECK(strcmp(s.sha256, hex) == 0);
    kg_source_text_free(&s);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/kgrade-test-source-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(set, sizeof set, "%s/set", root);
    mkdir(set, 0700);
    test_plain_source_is_unchanged();
    test_include_inside_is_inlined_and_hashed();
    test_includes_leaving_the_folder_are_refused();
    test_text_that_only_looks_like_an_include();
    test_system_headers();
    test_inline_assembly();
    test_binary_languages_are_hashed_as_bytes();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return kg_test_finish("test_source_text");
}
