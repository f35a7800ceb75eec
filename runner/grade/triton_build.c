/* Compiling Triton launches through the helper (triton_build.h). */
#include "triton_build.h"
#include "data_dirs.h"
#include "json_file.h"
#include "python_env.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A temporary file: created, its path in `path`; -1 on failure. */
static int temp_file(char *path, size_t size, const char *what)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/kgrade-triton-%s-XXXXXX", dir && dir[0] ? dir : "/tmp", what);
    return mkstemp(path);
}

/* Runs argv with stdin from `input` (may be NULL), stdout and stderr each
 * into a string (caller frees). Returns the exit status, or -1 when it
 * could not be started (err filled). Files rather than pipes: a request
 * larger than a pipe's buffer cannot deadlock against the reply. */
static int run_captured(char *const argv[], const char *input, char **out, char **errout,
                        kg_error *err)
{
    char in_path[PATH_MAX], out_path[PATH_MAX], err_path[PATH_MAX];
    int fds[3] = {temp_file(in_path, sizeof in_path, "in"),
                  temp_file(out_path, sizeof out_path, "out"),
                  temp_file(err_path, sizeof err_path, "err")};
    int status = -1;
    *out = *errout = NULL;
    if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
        kg_error_set(err, KG_ERR_UNAVAILABLE, "cannot create a temporary file: %s",
                     strerror(errno));
        goto done;
    }
    size_t len = input ? strlen(input) : 0;
    if (len && write(fds[0], input, len) != (ssize_t)len) {
        kg_error_set(err, KG_ERR_UNAVAILABLE, "cannot write %s: %s", in_path, strerror(errno));
        goto done;
    }
    lseek(fds[0], 0, SEEK_SET);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int i = 0; i < 3; i++)
        posix_spawn_file_actions_adddup2(&actions, fds[i], i);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        kg_error_set(err, KG_ERR_UNAVAILABLE, "cannot run %s: %s", argv[0], strerror(rc));
        goto done;
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    size_t ignored;
    if (kg_read_file(out_path, out, &ignored, NULL) != KG_OK)
        *out = NULL;
    if (kg_read_file(err_path, errout, &ignored, NULL) != KG_OK)
        *errout = NULL;
done:
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    return status;
}

const char *kg_triton_version(char *why, size_t size)
{
    static int tried;
    static char version[32], reason[1100];
    if (!tried) {
        tried = 1;
        const char *python = kg_python_path();
        char *const argv[] = {(char *)python, "-c", "import triton; print(triton.__version__)",
                              NULL};
        char *out = NULL, *errout = NULL;
        kg_error e = {0};
        struct stat st;
        int status = stat(python, &st) == 0 ? run_captured(argv, NULL, &out, &errout, &e) : -2;
        if (status == -2)
            snprintf(reason, sizeof reason,
                     "no Python at %s (make builds its environment; KGRADE_PYTHON names another)",
                     python);
        else if (status < 0)
            snprintf(reason, sizeof reason, "%s", e.message);
        else if (status != 0 || !out || !out[0])
            snprintf(reason, sizeof reason, "%s cannot import triton: %.300s", python,
                     errout && errout[0] ? errout : "no output");
        else
            snprintf(version, sizeof version, "%.*s", (int)strcspn(out, "\r\n"), out);
        free(out);
        free(errout);
    }
    if (!version[0]) {
        snprintf(why, size, "%s", reason);
        return NULL;
    }
    return version;
}

/* The helper script, found like the other data folders. */
static int helper_path(char *out, size_t size, kg_error *err)
{
    char dir[PATH_MAX];
    int rc = kg_data_dir_find(KG_DATA_TRITON, NULL, NULL, dir, sizeof dir, NULL, err);
    if (rc)
        return rc;
    if ((size_t)snprintf(out, size, "%.*s/kgrade_triton.py", (int)(sizeof dir - 32), dir) >= size)
        return kg_error_set(err, KG_ERR_INVALID, "%s: path too long", dir);
    struct stat st;
    if (stat(out, &st) != 0)
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "the Triton helper %s is missing", out);
    return KG_OK;
}

void kg_triton_unavailable(const kg_device_info *info, char *why, size_t size)
{
    why[0] = '\0';
    if (strcmp(info->backend, "cuda") != 0 && strcmp(info->backend, "hip") != 0) {
        snprintf(why, size, "%s device: Triton compiles for CUDA and HIP devices only",
                 info->backend);
        return;
    }
    char path[PATH_MAX];
    kg_error e = {0};
    if (helper_path(path, sizeof path, &e) != KG_OK) {
        snprintf(why, size, "%s", e.message);
        return;
    }
    kg_triton_version(why, size);
}

/* Where compiled kernels are kept between runs: KGRADE_TRITON_CACHE, else
 * $XDG_CACHE_HOME/kgrade/triton, else ~/.cache/kgrade/triton. */
static void cache_dir(char *out, size_t size)
{
    const char *given = getenv("KGRADE_TRITON_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (given && given[0])
        snprintf(out, size, "%s", given);
    else if (xdg && xdg[0])
        snprintf(out, size, "%s/kgrade/triton", xdg);
    else if (home && home[0])
        snprintf(out, size, "%s/.cache/kgrade/triton", home);
    else
        snprintf(out, size, "/tmp/kgrade-triton-%ld", (long)getuid());
}

/* The device's target as Triton names it. */
static cJSON *target_json(const kg_device_info *info)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "backend", info->backend);
    if (strcmp(info->backend, "cuda") == 0) {
        int major = 0, minor = 0;
        sscanf(info->arch, "sm_%1d%d", &major, &minor);
        cJSON_AddNumberToObject(t, "arch", major * 10 + minor);
        cJSON_AddNumberToObject(t, "warp_size", 32);
    } else {
        char arch[64];
        snprintf(arch, sizeof arch, "%.*s", (int)strcspn(info->arch, ":"), info->arch);
        cJSON_AddStringToObject(t, "arch", arch);
        cJSON_AddNumberToObject(t, "warp_size", info->subgroup_width ? info->subgroup_width : 64);
    }
    return t;
}

/* A float as JSON that Python reads back as a float (30.0, never 30), so
 * that Triton sees the constexpr the Python caller would pass. */
static void add_float(cJSON *obj, const char *name, double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.17g", v);
    if (!strpbrk(text, ".eE"))
        strncat(text, ".0", sizeof text - strlen(text) - 1);
    cJSON_AddRawToObject(obj, name, text);
}

static char *request_text(const kg_triton_request *req)
{
    const kg_triton_launch *t = req->spec;
    char dir[PATH_MAX];
    cache_dir(dir, sizeof dir);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "source", req->source);
    cJSON_AddStringToObject(r, "source_name", req->source_name);
    cJSON_AddStringToObject(r, "entry", req->entry);
    cJSON *sig = cJSON_AddObjectToObject(r, "signature");
    cJSON *values = cJSON_AddObjectToObject(r, "values");
    for (size_t i = 0; i < t->param_count; i++) {
        cJSON_AddStringToObject(sig, t->params[i].name, t->params[i].type);
        if (req->int_known[i])
            cJSON_AddNumberToObject(values, t->params[i].name, (double)req->int_values[i]);
    }
    cJSON *ce = cJSON_AddObjectToObject(r, "constexprs");
    for (size_t i = 0; i < t->constexpr_count; i++) {
        if (t->constexprs[i].param >= 0)
            add_float(ce, t->constexprs[i].name, req->constexpr_floats[i]);
        else if (t->constexprs[i].dtype)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(ce, t->constexprs[i].name), "dtype",
                                    t->constexprs[i].dtype);
        else if (t->constexprs[i].value)
            cJSON_AddNumberToObject(ce, t->constexprs[i].name, (double)req->constexpr_values[i]);
        else
            cJSON_AddNullToObject(ce, t->constexprs[i].name);
    }
    if (strcmp(req->info->backend, "hip") == 0 && t->hip_option_count) {
        cJSON *options = cJSON_AddObjectToObject(r, "options");
        for (size_t i = 0; i < t->hip_option_count; i++)
            cJSON_AddNumberToObject(options, t->hip_option_names[i],
                                    (double)t->hip_option_values[i]);
    }
    cJSON_AddNumberToObject(r, "num_warps", (double)req->num_warps);
    cJSON_AddNumberToObject(r, "num_stages", (double)req->num_stages);
    cJSON_AddItemToObject(r, "target", target_json(req->info));
    cJSON_AddStringToObject(r, "cache_dir", dir);
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return text;
}

static size_t json_size(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (size_t)v->valuedouble : 0;
}

/* The kept parameters by name, as indexes into the signature. */
static int read_params(const kg_triton_request *req, const cJSON *reply, kg_triton_binary *b,
                       kg_error *err)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "params"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        size_t i = 0;
        while (cJSON_IsString(name) && i < req->spec->param_count &&
               strcmp(req->spec->params[i].name, name->valuestring) != 0)
            i++;
        if (!cJSON_IsString(name) || i == req->spec->param_count ||
            b->kept_count == KG_TRITON_MAX_PARAMS)
            return kg_error_set(err, KG_ERR_INVALID,
                                "the Triton helper's reply lists a parameter '%s' that is not "
                                "in the signature",
                                cJSON_IsString(name) ? name->valuestring : "?");
        b->kept[b->kept_count++] = i;
    }
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "hidden"))
    {
        if (b->hidden_count == KG_TRITON_MAX_HIDDEN)
            return kg_error_set(err, KG_ERR_INVALID, "more than %d hidden parameters",
                                KG_TRITON_MAX_HIDDEN);
        b->hidden_bytes[b->hidden_count++] = json_size(p, "size");
    }
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "ptx_params"))
    {
        if (cJSON_IsString(p) &&
            b->ptx_param_count < sizeof b->ptx_params / sizeof b->ptx_params[0])
            snprintf(b->ptx_params[b->ptx_param_count++], sizeof b->ptx_params[0], "%s",
                     p->valuestring);
    }
    return KG_OK;
}

/* The reply of a successful compile into *b. */
static int read_reply(const kg_triton_request *req, const cJSON *reply, kg_triton_binary *b,
                      kg_error *err)
{
    const cJSON *binary = cJSON_GetObjectItemCaseSensitive(reply, "binary");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(reply, "name");
    if (!cJSON_IsString(binary) || !cJSON_IsString(name))
        return kg_error_set(err, KG_ERR_INVALID, "the Triton helper's reply has no binary/name");
    if (kg_read_file(binary->valuestring, (char **)&b->image, &b->image_size, err) != KG_OK)
        return KG_ERR_INVALID;
    /* The helper hashed the binary outside its sandbox when it stored it:
     * a file changed since (by anything) is not what was compiled. */
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(reply, "binary_sha256");
    char got[65];
    kg_sha256_hex(b->image, b->image_size, got);
    if (!cJSON_IsString(want) || strcmp(want->valuestring, got) != 0)
        return kg_error_set(err, KG_ERR_INVALID,
                            "the Triton binary %s has sha256 %s, not the %s recorded when it "
                            "was compiled",
                            binary->valuestring, got,
                            cJSON_IsString(want) ? want->valuestring : "(none)");
    b->image_language = strcmp(req->info->backend, "hip") == 0 ? KG_LANG_HSACO : KG_LANG_CUBIN;
    snprintf(b->name, sizeof b->name, "%s", name->valuestring);
    b->shared = json_size(reply, "shared");
    b->num_warps = (int)json_size(reply, "num_warps");
    b->warp_size = (int)json_size(reply, "warp_size");
    int rc = read_params(req, reply, b, err);
    if (rc)
        return rc;
    b->record = cJSON_CreateObject();
    static const char *const recorded[] = {"triton_version",
                                           "target",
                                           "cache_key",
                                           "cached",
                                           "compile_seconds",
                                           "num_warps",
                                           "num_stages",
                                           "shared",
                                           "name",
                                           "binary_sha256",
                                           "env",
                                           "sandbox"};
    for (size_t i = 0; i < sizeof recorded / sizeof recorded[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, recorded[i]);
        if (v)
            cJSON_AddItemToObject(b->record, recorded[i], cJSON_Duplicate(v, 1));
    }
    return KG_OK;
}

int kg_triton_compile(const kg_triton_request *req, kg_triton_binary *out, char **log,
                      kg_error *err)
{
    memset(out, 0, sizeof *out);
    if (log)
        *log = NULL;
    char why[512], helper[PATH_MAX];
    kg_triton_unavailable(req->info, why, sizeof why);
    if (why[0])
        return kg_error_set(err, KG_ERR_UNAVAILABLE, "triton unavailable (%s)", why);
    int rc = helper_path(helper, sizeof helper, err);
    if (rc)
        return rc;
    char *request = request_text(req);
    char *const argv[] = {(char *)kg_python_path(), helper, "compile", NULL};
    char *reply_text = NULL, *messages = NULL;
    int status = run_captured(argv, request, &reply_text, &messages, err);
    free(request);
    cJSON *reply = reply_text ? cJSON_Parse(reply_text) : NULL;
    int refused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "refused"));
    if (status < 0)
        rc = KG_ERR_UNAVAILABLE;
    else if (!reply)
        rc =
            kg_error_set(err, KG_ERR_BUILD, "the Triton helper exited with %d and no reply: %.400s",
                         status, messages ? messages : "");
    else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
        const cJSON *tb = cJSON_GetObjectItemCaseSensitive(reply, "traceback");
        rc =
            kg_error_set(err, KG_ERR_BUILD, "%s: %s%s%.600s", req->source_name,
                         cJSON_IsString(e) ? e->valuestring : "Triton compile failed",
                         cJSON_IsString(tb) ? "\n" : "", cJSON_IsString(tb) ? tb->valuestring : "");
    } else {
        rc = read_reply(req, reply, out, err);
    }
    cJSON_Delete(reply);
    free(reply_text);
    if (rc)
        kg_triton_binary_free(out);
    out->source_refused = rc != KG_OK && refused;
    if (log && rc == KG_ERR_BUILD && err) {
        *log = malloc(strlen(err->message) + (messages ? strlen(messages) : 0) + 2);
        if (*log)
            sprintf(*log, "%s\n%s", err->message, messages ? messages : "");
    } else if (log && messages) {
        *log = messages;
        messages = NULL;
    }
    free(messages);
    return rc;
}

void kg_triton_binary_free(kg_triton_binary *b)
{
    if (!b)
        return;
    free(b->image);
    cJSON_Delete(b->record);
    memset(b, 0, sizeof *b);
}

int kg_triton_pack_args(const kg_triton_binary *b, const kg_arg *args, size_t arg_count,
                        kg_arg *out, size_t *out_count, kg_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < b->kept_count; i++) {
        if (b->kept[i] >= arg_count)
            return kg_error_set(err, KG_ERR_INVALID, "kept parameter %zu out of range", b->kept[i]);
        out[n++] = args[b->kept[i]];
    }
    for (size_t i = 0; i < b->hidden_count; i++) {
        if (b->hidden_bytes[i])
            return kg_error_set(err, KG_ERR_UNSUPPORTED,
                                "%s: the kernel needs %zu bytes of Triton scratch per program; "
                                "kgrade does not allocate Triton scratch yet",
                                b->name, b->hidden_bytes[i]);
        out[n++] = kg_arg_null_pointer();
    }
    *out_count = n;
    return KG_OK;
}
