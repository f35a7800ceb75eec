/* The runtime-compiler driver shared by NVRTC and hiprtc (rtc_compile.h). */
#include "rtc_compile.h"
#include "rtc_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_request(const kg_rtc_vendor *v, const kg_build_request *req, const char *name,
                         const char *arch, kg_error *err)
{
    if (req->language != KG_LANG_PORTABLE && req->language != v->native)
        return kg_error_set(err, KG_ERR_UNSUPPORTED, "%s: %s compiles portable or %s, not %s", name,
                            v->compiler, kg_language_name(v->native),
                            kg_language_name(req->language));
    if (!req->source)
        return kg_error_set(err, KG_ERR_INVALID, "%s: no source text", name);
    if (v->check_target) {
        int rc = v->check_target(name, arch, err);
        if (rc)
            return rc;
    }
    return v->load(err);
}

static char *program_log(const kg_rtc_vendor *v, void *prog)
{
    size_t size = 0;
    if (v->log_size(prog, &size) != 0)
        size = 0;
    char *log = malloc(size + 1);
    if (!log)
        return NULL;
    log[0] = '\0';
    if (size && v->log(prog, log) == 0)
        log[size] = '\0';
    return log;
}

static void hand_log(char *text, char **log)
{
    if (log)
        *log = text;
    else
        free(text);
}

/* The compiled code, read after a successful compile. */
static int read_code(const kg_rtc_vendor *v, void *prog, const char *name, void **image,
                     size_t *image_size, kg_error *err)
{
    size_t size = 0;
    int rc = v->code_size(prog, &size);
    if (rc != 0 || !size)
        return kg_error_set_vendor(err, KG_ERR_BUILD, rc, v->error_string(rc),
                                   "%s: %s produced no code (%s)", name, v->compiler,
                                   v->error_string(rc));
    void *code = malloc(size);
    if (!code)
        return kg_error_set(err, KG_ERR_MEMORY, "%s: no memory for %zu bytes of code", name, size);
    if ((rc = v->code(prog, code)) != 0) {
        free(code);
        return kg_error_set_vendor(err, KG_ERR_BUILD, rc, v->error_string(rc),
                                   "%s: reading the code failed: %s", name, v->error_string(rc));
    }
    *image = code;
    *image_size = size;
    return KG_OK;
}

int kg_rtc_compile(const kg_rtc_vendor *v, const kg_build_request *req, const char *arch,
                   void **image, size_t *image_size, char **log, kg_error *err)
{
    *image = NULL;
    *image_size = 0;
    if (log)
        *log = NULL;
    const char *name = req->source_name ? req->source_name : "<source>";
    int rc = check_request(v, req, name, arch, err);
    if (rc)
        return rc;
    kg_build_options opts;
    char scratch[KG_RTC_SCRATCH][96];
    if ((rc = kg_build_options_make(&opts, req, err)))
        return rc;
    v->add_options(&opts, arch, scratch);

    kg_text source = {0};
    kg_text_source(&source, req->language == KG_LANG_PORTABLE ? v->prelude : v->native_prelude,
                   name, req->source, req->source_size);
    if (source.failed) {
        free(source.data);
        return kg_error_set(err, KG_ERR_MEMORY, "%s: out of memory preparing the build", name);
    }
    char key[65];
    kg_rtc_cache_key(v->describe ? v->describe() : v->compiler, arch, opts.list, opts.count,
                     source.data, source.len, key);
    char *cached_log = NULL;
    if (kg_rtc_cache_get(key, image, image_size, &cached_log)) {
        free(source.data);
        if (log)
            *log = cached_log;
        else
            free(cached_log);
        return KG_OK;
    }
    void *prog = NULL;
    int vrc = v->create(&prog, source.data, name);
    free(source.data);
    if (vrc != 0)
        return kg_error_set_vendor(err, KG_ERR_BUILD, vrc, v->error_string(vrc),
                                   "%s: creating the %s program failed: %s", name, v->compiler,
                                   v->error_string(vrc));
    vrc = v->compile(prog, opts.count, opts.list);
    char *text = program_log(v, prog);
    if (vrc != 0) {
        char headline[512];
        kg_log_headline(text, headline, sizeof headline);
        rc = kg_error_set_vendor(err, KG_ERR_BUILD, vrc, v->error_string(vrc),
                                 "building %s for %s failed: %s%s%s", name, arch,
                                 v->error_string(vrc), headline[0] ? ": " : "", headline);
    } else {
        rc = read_code(v, prog, name, image, image_size, err);
        if (rc == KG_OK)
            kg_rtc_cache_put(key, *image, *image_size, text);
    }
    v->destroy(prog);
    hand_log(text, log);
    return rc;
}
