/* Lists of evaluation ids ("3,5-7"): what --only accepts and refuses, and
 * the lists kgrade merge and slurm print, read back as the same ids. */
#include "id_list.h"
#include "kg_test.h"

static size_t marked(const unsigned char *m, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i <= max; i++)
        n += m[i];
    return n;
}

int main(void)
{
    unsigned char m[11] = {0};
    KG_CHECK_INT(kg_id_list_parse("3,5-7", m, 10), 0);
    KG_CHECK(m[3] && m[5] && m[6] && m[7] && !m[4] && !m[8] && !m[0]);
    KG_CHECK_INT(marked(m, 10), 4);
    static const char *const bad[] = {
        "",   "0", "11",   "3-1", "3,",   ",3",   "3-",
        "-3", "a", "3 ,4", "+3",  "3-11", "1--2", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char z[11] = {0};
        KG_CHECK_MSG(kg_id_list_parse(bad[i], z, 10) == -1, "'%s' was accepted", bad[i]);
    }
    char out[64];
    KG_CHECK_INT(kg_id_list_format(m, 10, out, sizeof out), 4);
    KG_CHECK_MSG(strcmp(out, "3,5-7") == 0, "got '%s'", out);
    unsigned char none[11] = {0};
    KG_CHECK_INT(kg_id_list_format(none, 10, out, sizeof out), 0);
    KG_CHECK(out[0] == '\0');
    /* Every pattern of 10 ids formats to a list that parses back to it. */
    for (unsigned bits = 0; bits < 1024; bits++) {
        unsigned char a[11] = {0}, b[11] = {0};
        for (int i = 0; i < 10; i++)
            a[i + 1] = (bits >> i) & 1;
        kg_id_list_format(a, 10, out, sizeof out);
        KG_CHECK_MSG(bits == 0 || (kg_id_list_parse(out, b, 10) == 0 && !memcmp(a, b, sizeof a)),
                     "%u -> '%s'", bits, out);
    }
    /* Too long for the room: cut after whole items, ending in "...". */
    unsigned char odd[101] = {0};
    for (int i = 1; i <= 100; i += 2)
        odd[i] = 1;
    char small[16];
    KG_CHECK_INT(kg_id_list_format(odd, 100, small, sizeof small), 50);
    KG_CHECK_MSG(strcmp(small, "1,3,5,7,9,...") == 0, "got '%s'", small);
    return kg_test_failures != 0;
}
