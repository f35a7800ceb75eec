/* Lists of ids, "3,5-7" (id_list.h). */
#include "id_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kg_id_list_parse(const char *text, unsigned char *marks, size_t max)
{
    if (!text || !*text)
        return -1;
    const char *p = text;
    while (*p) {
        if (*p < '0' || *p > '9') /* strtoul would take a sign or spaces */
            return -1;
        char *end;
        unsigned long long a = strtoull(p, &end, 10), b = a;
        if (a < 1 || a > max)
            return -1;
        p = end;
        if (*p == '-') {
            if (p[1] < '0' || p[1] > '9')
                return -1;
            b = strtoull(p + 1, &end, 10);
            if (b < a || b > max)
                return -1;
            p = end;
        }
        for (unsigned long long id = a; id <= b; id++)
            marks[id] = 1;
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}

size_t kg_id_list_format(const unsigned char *marks, size_t max, char *out, size_t size)
{
    size_t used = 0, count = 0;
    int truncated = 0;
    if (size)
        out[0] = '\0';
    for (size_t id = 1; id <= max; id++) {
        if (!marks[id])
            continue;
        size_t last = id;
        while (last < max && marks[last + 1])
            last++;
        count += last - id + 1;
        char item[48];
        int n = last > id ? snprintf(item, sizeof item, "%s%zu-%zu", used ? "," : "", id, last)
                          : snprintf(item, sizeof item, "%s%zu", used ? "," : "", id);
        /* Room is kept for ",..." after every item written. */
        if (!truncated && used + (size_t)n + 5 <= size) {
            memcpy(out + used, item, (size_t)n + 1);
            used += (size_t)n;
        } else if (!truncated && size >= 5) {
            truncated = 1;
            memcpy(out + used, used ? ",..." : "...", used ? 5 : 4);
        }
        id = last;
    }
    return count;
}
