/* Sorted, filtered folder listings. */
#include "dir_list.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kg_dir_list(const char *dir, int (*keep)(const char *dir, const char *name, void *user),
                void *user, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.' || !keep(dir, ent->d_name, user))
            continue;
        char **grown = realloc(*names, (*count + 1) * sizeof **names);
        char *name = grown ? strdup(ent->d_name) : NULL;
        if (grown)
            *names = grown;
        if (!name)
            break;
        (*names)[(*count)++] = name;
    }
    closedir(d);
    if (*count > 1)
        qsort(*names, *count, sizeof **names, compare_names);
    return 0;
}

void kg_dir_list_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int kg_dir_is_json(const char *dir, const char *name, void *user)
{
    (void)dir;
    (void)user;
    size_t len = strlen(name);
    return len > 5 && strcmp(name + len - 5, ".json") == 0;
}
