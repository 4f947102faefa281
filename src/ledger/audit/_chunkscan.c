/* The parallel audit's per-record work on one chunk, compiled.
 *
 * `check(lines, places, leaves, first, origin_part, windows, keyring_stream)` does what
 * `ledger.audit.parallel._check_records` does over the chunk's records (the fast form of
 * `ledger.audit.fastform`, the stored place, the key window, the chain links inside the
 * chunk). `lines` are the records, each after its leaf hash's prefix byte (as `prefixed` makes
 * them); `places` is the chunk's part of stored.csv, one line per record. It returns None, or
 * (firsts, lasts, kids, specials):
 *
 *   firsts    stream -> (version, prev or None, position) of its first record in the chunk
 *   lasts     stream -> (version, index in the chunk) of its newest record
 *   kids      kid -> (first position, last position) it signed
 *   specials  indexes of the records left to the key history's checks (position 0, the key
 *             ring's records)
 *
 * None means "not accepted here", never "wrong": the caller then runs the Python checks over
 * the chunk, which decide. So this code may refuse more than they do, never accept more.
 * `prefixed` and `pairs` make the inputs of the leaf and node hashes with one copy each.
 * SHA-256 stays with hashlib: nothing cryptographic lives here.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define KID_LEN 16
#define HEAD_LEN 19 /* {"format":1,"kid":" */
#define MAX_KIDS 16

static const char HEAD[] = "{\"format\":1,\"kid\":\"";
static const char PREV[] = ",\"prev\":";
#define PREV_LEN 8

typedef struct {
    const char *prev; /* NULL for null */
    const char *at;
    Py_ssize_t at_len;
    const char *stream;
    Py_ssize_t stream_len;
    const char *type;
    Py_ssize_t type_len;
    const char *digits;
    Py_ssize_t digits_len;
    long long version;
} Fields;

typedef struct {
    const char *kid;
    const char *from;
    Py_ssize_t from_len;
    const char *until;
    Py_ssize_t until_len;
    Py_ssize_t first;
    Py_ssize_t last;
} Kid;

/* `text` (of `len` bytes) at `p` equals the literal `lit`; advances `p` past it. */
static int literal(const char *data, Py_ssize_t len, Py_ssize_t *p, const char *lit)
{
    Py_ssize_t n = (Py_ssize_t)strlen(lit);
    if (len - *p < n || memcmp(data + *p, lit, (size_t)n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* A run of bytes other than a quote from `p`, then the quote: its start and length. */
static int unquoted(const char *data, Py_ssize_t len, Py_ssize_t *p, const char **start,
                    Py_ssize_t *n)
{
    const char *found = memchr(data + *p, '"', (size_t)(len - *p));
    if (found == NULL)
        return 0;
    *start = data + *p;
    *n = found - (data + *p);
    *p += *n + 1;
    return 1;
}

/* The envelope's end, as `fastform._TAIL` matches it in full from the last `,"prev":`. */
static int tail(const char *data, Py_ssize_t len, Py_ssize_t head_end, Fields *f)
{
    Py_ssize_t p = -1;
    for (Py_ssize_t i = len - PREV_LEN; i >= 0; i--) {
        if (data[i] == ',' && memcmp(data + i, PREV, PREV_LEN) == 0) {
            p = i;
            break;
        }
    }
    if (p < head_end)
        return 0;
    p += PREV_LEN;
    if (len - p >= 4 && memcmp(data + p, "null", 4) == 0) {
        f->prev = NULL;
        p += 4;
    }
    else {
        if (len - p < 66 || data[p] != '"' || data[p + 65] != '"')
            return 0;
        if (memchr(data + p + 1, '"', 64) != NULL)
            return 0;
        f->prev = data + p + 1;
        p += 66;
    }
    const char *sig;
    Py_ssize_t sig_len;
    if (!literal(data, len, &p, ",\"recorded_at\":\"") ||
        !unquoted(data, len, &p, &f->at, &f->at_len) ||
        !literal(data, len, &p, ",\"sig\":\"") || !unquoted(data, len, &p, &sig, &sig_len) ||
        !literal(data, len, &p, ",\"stream\":\"") ||
        !unquoted(data, len, &p, &f->stream, &f->stream_len) ||
        !literal(data, len, &p, ",\"type\":\"") ||
        !unquoted(data, len, &p, &f->type, &f->type_len) ||
        !literal(data, len, &p, ",\"version\":"))
        return 0;
    f->digits = data + p;
    Py_ssize_t digits = 0;
    long long version = 0;
    while (p < len && data[p] >= '0' && data[p] <= '9') {
        version = version * 10 + (data[p] - '0');
        digits++;
        p++;
        if (digits > 15)
            return 0;
    }
    if (digits == 0 || f->digits[0] == '0' || p != len - 1 || data[p] != '}')
        return 0;
    f->digits_len = digits;
    f->version = version;
    return 1;
}

/* Bytes compared as Python compares bytes: -1, 0 or 1. */
static int compare(const char *a, Py_ssize_t a_len, const char *b, Py_ssize_t b_len)
{
    int c = memcmp(a, b, (size_t)(a_len < b_len ? a_len : b_len));
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a_len < b_len ? -1 : (a_len > b_len ? 1 : 0);
}

/* The kid's entry (its window read once from `windows`); NULL if it has none or too many
 * kids sign in one chunk (the Python loop then decides). */
static Kid *kid_entry(Kid *kids, int *count, const char *kid, PyObject *windows)
{
    for (int i = 0; i < *count; i++)
        if (memcmp(kids[i].kid, kid, KID_LEN) == 0)
            return &kids[i];
    if (*count >= MAX_KIDS)
        return NULL;
    PyObject *key = PyBytes_FromStringAndSize(kid, KID_LEN);
    if (key == NULL)
        return NULL;
    PyObject *window = PyDict_GetItemWithError(windows, key); /* borrowed */
    Py_DECREF(key);
    if (window == NULL || !PyTuple_Check(window) || PyTuple_GET_SIZE(window) != 2)
        return NULL;
    PyObject *from = PyTuple_GET_ITEM(window, 0);
    PyObject *until = PyTuple_GET_ITEM(window, 1);
    if (!PyBytes_Check(from) || !PyBytes_Check(until))
        return NULL;
    Kid *entry = &kids[(*count)++];
    entry->kid = kid;
    entry->from = PyBytes_AS_STRING(from);
    entry->from_len = PyBytes_GET_SIZE(from);
    entry->until = PyBytes_AS_STRING(until);
    entry->until_len = PyBytes_GET_SIZE(until);
    entry->first = -1;
    entry->last = -1;
    return entry;
}

static const char HEX[] = "0123456789abcdef";

/* The 64 hex digits at `prev` are the leaf's hash in lower-case hex. */
static int links(const char *prev, PyObject *leaf)
{
    if (!PyBytes_Check(leaf) || PyBytes_GET_SIZE(leaf) != 32)
        return 0;
    const unsigned char *h = (const unsigned char *)PyBytes_AS_STRING(leaf);
    for (int i = 0; i < 32; i++)
        if (prev[2 * i] != HEX[h[i] >> 4] || prev[2 * i + 1] != HEX[h[i] & 15])
            return 0;
    return 1;
}

/* Streams met in the chunk: an open-addressing table of record indexes (the stream's newest
 * record so far), keyed on the stream's bytes, which stay in the caller's records. */
typedef struct {
    Py_ssize_t *slots; /* -1: empty */
    size_t mask;
    const char **stream;
    Py_ssize_t *stream_len;
} Streams;

static size_t hash_of(const char *s, Py_ssize_t n)
{
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* The slot of the stream `s`: holding its newest record's index, or -1 (empty) if new. */
static Py_ssize_t *slot_of(Streams *t, const char *s, Py_ssize_t n)
{
    size_t at = hash_of(s, n) & t->mask;
    while (t->slots[at] >= 0) {
        Py_ssize_t j = t->slots[at];
        if (t->stream_len[j] == n && memcmp(t->stream[j], s, (size_t)n) == 0)
            break;
        at = (at + 1) & t->mask;
    }
    return &t->slots[at];
}

static PyObject *check(PyObject *self, PyObject *args)
{
    PyObject *datas, *leaves, *windows;
    Py_ssize_t first;
    const char *places, *origin_part, *keyring;
    Py_ssize_t places_len, origin_len, keyring_len;
    if (!PyArg_ParseTuple(args, "O!y#O!ny#O!y#", &PyList_Type, &datas, &places, &places_len,
                          &PyList_Type, &leaves, &first, &origin_part, &origin_len,
                          &PyDict_Type, &windows, &keyring, &keyring_len))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(datas);
    if (PyList_GET_SIZE(leaves) != n)
        Py_RETURN_NONE;
    const char *next_place = places, *places_end = places + places_len;
    Py_ssize_t head_end = HEAD_LEN + KID_LEN + origin_len;
    size_t capacity = 16;
    while (capacity < 2 * (size_t)n)
        capacity *= 2;
    Streams streams = {
        PyMem_Malloc(sizeof(Py_ssize_t) * capacity), capacity - 1,
        PyMem_Malloc(sizeof(char *) * (size_t)(n ? n : 1)),
        PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1)),
    };
    long long *versions = PyMem_Malloc(sizeof(long long) * (size_t)(n ? n : 1));
    Kid kids[MAX_KIDS];
    int kid_count = 0;
    PyObject *firsts = PyDict_New();
    PyObject *specials = PyList_New(0);
    PyObject *result = NULL;
    int accepted = 0;
    if (streams.slots == NULL || streams.stream == NULL || streams.stream_len == NULL ||
        versions == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (firsts == NULL || specials == NULL)
        goto done;
    for (size_t k = 0; k < capacity; k++)
        streams.slots[k] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *data_obj = PyList_GET_ITEM(datas, i);
        if (!PyBytes_Check(data_obj) || PyBytes_GET_SIZE(data_obj) < 1)
            goto refused;
        const char *data = PyBytes_AS_STRING(data_obj) + 1; /* after the leaf hash's prefix */
        Py_ssize_t len = PyBytes_GET_SIZE(data_obj) - 1;
        const char *place = next_place;
        const char *place_end = memchr(place, '\n', (size_t)(places_end - place));
        if (place_end == NULL)
            goto refused;
        Py_ssize_t place_len = place_end - place;
        next_place = place_end + 1;
        Fields f;
        int fast = first + i != 0 && len >= head_end && memcmp(data, HEAD, HEAD_LEN) == 0 &&
                   memcmp(data + HEAD_LEN + KID_LEN, origin_part, (size_t)origin_len) == 0 &&
                   tail(data, len, head_end, &f);
        Kid *kid = NULL;
        if (fast) {
            kid = kid_entry(kids, &kid_count, data + HEAD_LEN, windows);
            if (kid == NULL) {
                if (PyErr_Occurred())
                    goto done;
                if (kid_count >= MAX_KIDS)
                    goto refused;
                fast = 0; /* no window: not the fast form */
            }
            else if (compare(f.at, f.at_len, kid->from, kid->from_len) < 0 ||
                     compare(f.at, f.at_len, kid->until, kid->until_len) >= 0)
                fast = 0;
        }
        if (!fast ||
            (f.stream_len == keyring_len && memcmp(f.stream, keyring, (size_t)keyring_len) == 0)) {
            if (first + i != 0 && !fast &&
                !(place_len > keyring_len && memcmp(place, keyring, (size_t)keyring_len) == 0 &&
                  place[keyring_len] == ','))
                goto refused;
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(specials, index) < 0) {
                Py_XDECREF(index);
                goto done;
            }
            Py_DECREF(index);
            continue;
        }
        /* The stored place: stream,version,type. */
        if (place_len != f.stream_len + f.digits_len + f.type_len + 2 ||
            memcmp(place, f.stream, (size_t)f.stream_len) != 0 || place[f.stream_len] != ',' ||
            memcmp(place + f.stream_len + 1, f.digits, (size_t)f.digits_len) != 0 ||
            place[f.stream_len + 1 + f.digits_len] != ',' ||
            memcmp(place + f.stream_len + f.digits_len + 2, f.type, (size_t)f.type_len) != 0)
            goto refused;
        versions[i] = f.version;
        streams.stream[i] = f.stream;
        streams.stream_len[i] = f.stream_len;
        Py_ssize_t *slot = slot_of(&streams, f.stream, f.stream_len);
        if (*slot < 0) {
            PyObject *stream = PyBytes_FromStringAndSize(f.stream, f.stream_len);
            PyObject *prev = f.prev == NULL ? Py_NewRef(Py_None)
                                            : PyBytes_FromStringAndSize(f.prev, 64);
            PyObject *entry =
                prev == NULL ? NULL : Py_BuildValue("(LNn)", f.version, prev, first + i);
            if (stream == NULL || entry == NULL || PyDict_SetItem(firsts, stream, entry) < 0) {
                Py_XDECREF(stream);
                Py_XDECREF(entry);
                goto done;
            }
            Py_DECREF(stream);
            Py_DECREF(entry);
        }
        else {
            Py_ssize_t j = *slot;
            if (f.prev == NULL || f.version != versions[j] + 1 ||
                !links(f.prev, PyList_GET_ITEM(leaves, j)))
                goto refused;
        }
        *slot = i;
        if (kid->first < 0)
            kid->first = first + i;
        kid->last = first + i;
    }
    accepted = next_place == places_end; /* as many places as records */
refused:
    if (!accepted) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    {
        PyObject *heads = PyDict_New();
        PyObject *spans = PyDict_New();
        if (heads == NULL || spans == NULL)
            goto failed;
        for (size_t k = 0; k < capacity; k++) {
            Py_ssize_t j = streams.slots[k];
            if (j < 0)
                continue;
            PyObject *stream = PyBytes_FromStringAndSize(streams.stream[j], streams.stream_len[j]);
            PyObject *entry = stream == NULL ? NULL : Py_BuildValue("(Ln)", versions[j], j);
            if (entry == NULL || PyDict_SetItem(heads, stream, entry) < 0) {
                Py_XDECREF(stream);
                Py_XDECREF(entry);
                goto failed;
            }
            Py_DECREF(stream);
            Py_DECREF(entry);
        }
        for (int k = 0; k < kid_count; k++) {
            if (kids[k].first < 0)
                continue; /* its only records went to the key history's checks */
            PyObject *key = PyBytes_FromStringAndSize(kids[k].kid, KID_LEN);
            PyObject *span =
                key == NULL ? NULL : Py_BuildValue("(nn)", kids[k].first, kids[k].last);
            if (span == NULL || PyDict_SetItem(spans, key, span) < 0) {
                Py_XDECREF(key);
                Py_XDECREF(span);
                goto failed;
            }
            Py_DECREF(key);
            Py_DECREF(span);
        }
        result = Py_BuildValue("(OOOO)", firsts, heads, spans, specials);
    failed:
        Py_XDECREF(heads);
        Py_XDECREF(spans);
    }
done:
    PyMem_Free(streams.slots);
    PyMem_Free(streams.stream);
    PyMem_Free(streams.stream_len);
    PyMem_Free(versions);
    Py_XDECREF(firsts);
    Py_XDECREF(specials);
    return result;
}

/* The lines of `block` (which ends in a newline), each after the byte `prefix`: a record as
 * the input of its leaf hash. None if the block does not end in a newline. */
static PyObject *prefixed(PyObject *self, PyObject *args)
{
    const char *block;
    Py_ssize_t len;
    unsigned char prefix;
    if (!PyArg_ParseTuple(args, "y#b", &block, &len, &prefix))
        return NULL;
    if (len > 0 && block[len - 1] != '\n')
        Py_RETURN_NONE;
    PyObject *lines = PyList_New(0);
    if (lines == NULL)
        return NULL;
    const char *at = block, *end = block + len;
    while (at < end) {
        const char *newline = memchr(at, '\n', (size_t)(end - at));
        Py_ssize_t n = newline - at;
        PyObject *line = PyBytes_FromStringAndSize(NULL, n + 1);
        if (line == NULL) {
            Py_DECREF(lines);
            return NULL;
        }
        char *into = PyBytes_AS_STRING(line);
        into[0] = (char)prefix;
        memcpy(into + 1, at, (size_t)n);
        if (PyList_Append(lines, line) < 0) {
            Py_DECREF(line);
            Py_DECREF(lines);
            return NULL;
        }
        Py_DECREF(line);
        at = newline + 1;
    }
    return lines;
}

/* For each pair of 32-byte hashes of `level` (an odd last one waits), the input of their
 * parent's hash: the byte 1, the left, the right. */
static PyObject *pairs(PyObject *self, PyObject *args)
{
    PyObject *level;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &level))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(level) / 2;
    PyObject *inputs = PyList_New(n);
    if (inputs == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *left = PyList_GET_ITEM(level, 2 * i);
        PyObject *right = PyList_GET_ITEM(level, 2 * i + 1);
        if (!PyBytes_Check(left) || !PyBytes_Check(right) || PyBytes_GET_SIZE(left) != 32 ||
            PyBytes_GET_SIZE(right) != 32) {
            Py_DECREF(inputs);
            PyErr_SetString(PyExc_ValueError, "a level holds 32-byte hashes");
            return NULL;
        }
        PyObject *input = PyBytes_FromStringAndSize(NULL, 65);
        if (input == NULL) {
            Py_DECREF(inputs);
            return NULL;
        }
        char *into = PyBytes_AS_STRING(input);
        into[0] = 1;
        memcpy(into + 1, PyBytes_AS_STRING(left), 32);
        memcpy(into + 33, PyBytes_AS_STRING(right), 32);
        PyList_SET_ITEM(inputs, i, input);
    }
    return inputs;
}

static PyMethodDef methods[] = {
    {"check", check, METH_VARARGS,
     "The per-record checks of one audit chunk: (firsts, lasts, kids, specials) or None."},
    {"prefixed", prefixed, METH_VARARGS,
     "The lines of a block ending in a newline, each after one byte; None if it does not."},
    {"pairs", pairs, METH_VARARGS, "The inputs of the parents' hashes of a level's pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_chunkscan",
    .m_doc = "The parallel audit's per-record checks of one chunk, compiled.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__chunkscan(void) { return PyModule_Create(&module); }
