/* unspin._trigram: the n-gram hot path in C (issue 15).
 *
 * Why C and not Cython, numba or our own copy of the model: every value must come from
 * pocketsphinx's own lookup (`ngram_ng_prob`), since the engine's decisions depend on the
 * exact numbers and pocketsphinx's ARPA export rounds them.  Its Python binding costs 1-3 us a
 * call; its C API is exported from the extension module the `pocketsphinx` wheel installs, so
 * this module opens that shared object (dlopen), reads the same model file through it, and runs
 * the loops that ask it millions of questions an article over integer word ids with its own
 * memo: the candidate windows (`gains`), a sentence's log-probability (`window`) and the
 * beam decode (`beam`).  Each reproduces the Python code in unspin/resources/lm.py and
 * unspin/engine/decoding.py operation for operation (the same sums in the same order, the same
 * tie-breaking), so outputs are identical; tests/test_trigram_c.py checks it.  The GIL is held
 * throughout, so one model can serve several threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*logmath_init_fn)(double, int, int);
typedef void *(*model_read_fn)(void *, const char *, int, void *);
typedef int32_t (*wid_fn)(void *, const char *);
typedef int32_t (*ng_prob_fn)(void *, int32_t, int32_t *, int32_t, int32_t *);
typedef const uint32_t *(*get_counts_fn)(void *);
typedef int (*free_fn)(void *);

#define NGRAM_AUTO 0
#define NO_WORD 0x1FFFFFu /* the packed key's "no second history word" (a bigram) */

typedef struct {
    uint64_t key; /* 0: empty */
    double value;
} Slot;

typedef struct {
    PyObject_HEAD
    void *handle;
    void *lmath;
    void *model;
    wid_fn wid;
    ng_prob_fn ng_prob;
    free_fn model_free;
    free_fn lmath_free;
    int32_t bos, eos, vocab;
    double oov, ln_base;
    int64_t logzero_half;
    int8_t *known; /* indexed by wid + 1: 0 not asked yet, 1 known, 2 unknown */
    Slot *slots;
    size_t mask, used, limit;
} Trigram;

/* ------------------------------------------------------------------ lookups */

static inline size_t slot_of(uint64_t key, size_t mask)
{
    /* splitmix64's finaliser: every bit of the key reaches the slot.  (A plain multiply
     * kept the word's bits out of the slot, so every unigram, and every word in one
     * context, probed one chain: 3x slower.) */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebull;
    key ^= key >> 31;
    return (size_t)key & mask;
}

static int is_known(Trigram *t, int32_t w)
{
    /* NGramLM.known: the unigram probability above LOGZERO // 2 (asked once a word) */
    if (w < -1 || w >= t->vocab)
        w = -1;
    int8_t k = t->known[w + 1];
    if (k == 0) {
        int32_t hist[2] = {0, 0}, used_order;
        int32_t raw = t->ng_prob(t->model, w, hist, 0, &used_order);
        k = (int64_t)raw > t->logzero_half ? 1 : 2;
        t->known[w + 1] = k;
    }
    return k == 1;
}

static double lookup(Trigram *t, int32_t w, int32_t h1, int32_t h2, int n_hist)
{
    /* ln P(w | history): h1 the newest history word, h2 the one before; n_hist 0, 1 or 2. */
    int32_t used_order;
    /* Ids below -1 are unknown words told apart (NGramLM.ids: the beam keys hypotheses by
     * their last two words); the model sees every unknown word as -1, as ngram_wid gives. */
    if (w < -1 || w >= t->vocab)
        w = -1;
    if (h1 < -1 || h1 >= t->vocab)
        h1 = -1;
    if (h2 < -1 || h2 >= t->vocab)
        h2 = -1;
    int32_t hist[2] = {h1, h2};
    if (!is_known(t, w))
        return t->oov; /* a word the model does not know scores the floor, whatever came before */
    uint64_t key = ((uint64_t)(w + 1) << 42) |
                   ((n_hist == 0 ? NO_WORD : (uint64_t)(h1 + 1)) << 21) |
                   (n_hist < 2 ? NO_WORD : (uint64_t)(h2 + 1));
    size_t i = slot_of(key, t->mask);
    while (t->slots[i].key != 0) {
        if (t->slots[i].key == key)
            return t->slots[i].value;
        i = (i + 1) & t->mask;
    }
    int32_t raw = t->ng_prob(t->model, w, hist, n_hist, &used_order);
    double value;
    if ((int64_t)raw <= t->logzero_half) {
        value = t->oov;
    } else {
        value = (double)raw * t->ln_base;
        if (value < t->oov)
            value = t->oov;
    }
    if (t->used >= t->limit) {
        /* Bounded: start afresh (values are recomputed identically). */
        memset(t->slots, 0, (t->mask + 1) * sizeof(Slot));
        t->used = 0;
        i = slot_of(key, t->mask);
    }
    t->slots[i].key = key;
    t->slots[i].value = value;
    t->used++;
    return value;
}

/* sum of ln P(ids[i] | two before) for start <= i < end; "<s>"/"</s>" padded (window_logprob) */
static double window_ids(Trigram *t, const int32_t *ids, Py_ssize_t size, Py_ssize_t start,
                         Py_ssize_t end)
{
    double total = 0.0;
    Py_ssize_t lo = start > 0 ? start : 0;
    Py_ssize_t hi = end < size + 1 ? end : size + 1;
    for (Py_ssize_t i = lo; i < hi; i++) {
        int32_t w = i < size ? ids[i] : t->eos;
        if (i == 0)
            total += lookup(t, w, t->bos, 0, 1);
        else if (i == 1)
            total += lookup(t, w, ids[0], t->bos, 2);
        else
            total += lookup(t, w, ids[i - 1], ids[i - 2], 2);
    }
    return total;
}

/* A Python sequence of ints as a malloc'd int32 array (*size set); NULL with an error set. */
static int32_t *as_ids(PyObject *seq, Py_ssize_t *size)
{
    PyObject *fast = PySequence_Fast(seq, "word ids must be a sequence");
    if (fast == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int32_t *ids = PyMem_Malloc((n ? n : 1) * sizeof(int32_t));
    if (ids == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(items[i]);
        if (v == -1 && PyErr_Occurred()) {
            PyMem_Free(ids);
            Py_DECREF(fast);
            return NULL;
        }
        ids[i] = (int32_t)v;
    }
    Py_DECREF(fast);
    *size = n;
    return ids;
}

/* The word ids of a sentence and a sequence of per-item tuples, as gains and beam take them. */
static int ids_and_items(PyObject *seq, PyObject *items, const char *what, int32_t **ids,
                         Py_ssize_t *size, PyObject **fast)
{
    *fast = PySequence_Fast(items, what);
    if (*fast == NULL)
        return -1;
    *ids = as_ids(seq, size);
    if (*ids == NULL) {
        Py_CLEAR(*fast);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ the type */

static void Trigram_dealloc(Trigram *self)
{
    if (self->model && self->model_free)
        self->model_free(self->model);
    if (self->lmath && self->lmath_free)
        self->lmath_free(self->lmath);
    if (self->handle)
        dlclose(self->handle);
    PyMem_Free(self->known);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Trigram_init(Trigram *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"library", "model", "oov", "ln_base", "logzero", "slots", NULL};
    const char *library, *model;
    double oov, ln_base;
    long long logzero;
    Py_ssize_t slots = 1 << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ssddL|n", names, &library, &model, &oov,
                                     &ln_base, &logzero, &slots))
        return -1;
    if (slots < 1024 || (slots & (slots - 1)) != 0) {
        PyErr_SetString(PyExc_ValueError, "slots must be a power of two >= 1024");
        return -1;
    }
    self->handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (self->handle == NULL) {
        PyErr_Format(PyExc_OSError, "cannot open %s: %s", library, dlerror());
        return -1;
    }
    logmath_init_fn logmath_init = (logmath_init_fn)dlsym(self->handle, "logmath_init");
    model_read_fn model_read = (model_read_fn)dlsym(self->handle, "ngram_model_read");
    get_counts_fn get_counts = (get_counts_fn)dlsym(self->handle, "ngram_model_get_counts");
    self->wid = (wid_fn)dlsym(self->handle, "ngram_wid");
    self->ng_prob = (ng_prob_fn)dlsym(self->handle, "ngram_ng_prob");
    self->model_free = (free_fn)dlsym(self->handle, "ngram_model_free");
    self->lmath_free = (free_fn)dlsym(self->handle, "logmath_free");
    if (!logmath_init || !model_read || !get_counts || !self->wid || !self->ng_prob ||
        !self->model_free || !self->lmath_free) {
        PyErr_Format(PyExc_OSError, "%s does not export the pocketsphinx n-gram API", library);
        return -1;
    }
    /* As pocketsphinx.NGramModel.readfile does: log base 1.0001, no shift, no table. */
    self->lmath = logmath_init(1.0001, 0, 0);
    self->model = self->lmath ? model_read(NULL, model, NGRAM_AUTO, self->lmath) : NULL;
    if (self->model == NULL) {
        PyErr_Format(PyExc_OSError, "pocketsphinx could not read the n-gram model %s", model);
        return -1;
    }
    /* the unigram count: word ids run from 0 to it (ngram_wid gives -1 for other words) */
    const uint32_t *counts = get_counts(self->model);
    self->vocab = counts ? (int32_t)counts[0] : 0;
    if (self->vocab <= 0 || (uint32_t)self->vocab + 1 >= NO_WORD) {
        PyErr_Format(PyExc_ValueError, "unexpected vocabulary size %d", (int)self->vocab);
        return -1;
    }
    self->bos = self->wid(self->model, "<s>");
    self->eos = self->wid(self->model, "</s>");
    self->oov = oov;
    self->ln_base = ln_base;
    /* Python's floor division, as NGramLM computes LOGZERO // 2 */
    self->logzero_half = logzero >= 0 ? logzero / 2 : -((-logzero + 1) / 2);
    self->known = PyMem_Calloc((size_t)self->vocab + 1, 1);
    self->slots = PyMem_Calloc((size_t)slots, sizeof(Slot));
    if (self->known == NULL || self->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = (size_t)slots - 1;
    self->limit = (size_t)slots / 4 * 3;
    self->used = 0;
    return 0;
}

static PyObject *Trigram_wid(Trigram *self, PyObject *word)
{
    const char *text = PyUnicode_AsUTF8(word);
    if (text == NULL)
        return NULL;
    return PyLong_FromLong(self->wid(self->model, text));
}

static PyObject *Trigram_prob(Trigram *self, PyObject *args)
{
    /* ln P(w | h2 h1) as NGramLM.value_of: prob(w), prob(w, h1), prob(w, h1, h2), h1 newest */
    int w, h1 = 0, h2 = 0;
    if (!PyArg_ParseTuple(args, "i|ii", &w, &h1, &h2))
        return NULL;
    int n_hist = (int)PyTuple_GET_SIZE(args) - 1;
    return PyFloat_FromDouble(lookup(self, w, h1, h2, n_hist));
}

static PyObject *Trigram_memo_stats(Trigram *self, PyObject *Py_UNUSED(ignored))
{
    /* (entries, the longest distance from an entry's home slot): a check on the hash */
    size_t longest = 0, size = self->mask + 1;
    for (size_t i = 0; i < size; i++) {
        if (self->slots[i].key == 0)
            continue;
        size_t distance = (i - slot_of(self->slots[i].key, self->mask)) & self->mask;
        if (distance > longest)
            longest = distance;
    }
    return Py_BuildValue("nn", (Py_ssize_t)self->used, (Py_ssize_t)longest);
}

static PyObject *Trigram_known(Trigram *self, PyObject *arg)
{
    long w = PyLong_AsLong(arg);
    if (w == -1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(is_known(self, (int32_t)w));
}

static PyObject *Trigram_window(Trigram *self, PyObject *args)
{
    PyObject *seq;
    Py_ssize_t start, end, size;
    if (!PyArg_ParseTuple(args, "Onn", &seq, &start, &end))
        return NULL;
    int32_t *ids = as_ids(seq, &size);
    if (ids == NULL)
        return NULL;
    double total = window_ids(self, ids, size, start, end);
    PyMem_Free(ids);
    return PyFloat_FromDouble(total);
}

/* gains(ids, candidates, length_penalty): Decoder.ngram_score for each (first, last, new_ids) */
static PyObject *Trigram_gains(Trigram *self, PyObject *args)
{
    PyObject *seq, *cands;
    double length_penalty;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "OOd", &seq, &cands, &length_penalty))
        return NULL;
    PyObject *fast;
    int32_t *ids;
    if (ids_and_items(seq, cands, "candidates must be a sequence", &ids, &size, &fast) < 0)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    PyObject *result = PyList_New(count);
    int32_t *local = PyMem_Malloc((size + 64) * sizeof(int32_t));
    Py_ssize_t local_cap = size + 64;
    if (result == NULL || local == NULL)
        goto fail;
    for (Py_ssize_t c = 0; c < count; c++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, c);
        Py_ssize_t first, last, n_new;
        PyObject *new_seq;
        if (!PyArg_ParseTuple(item, "nnO", &first, &last, &new_seq))
            goto fail;
        int32_t *fresh_ids = as_ids(new_seq, &n_new);
        if (fresh_ids == NULL)
            goto fail;
        if (first < 0 || last < first || last >= size) {
            PyMem_Free(fresh_ids);
            PyErr_SetString(PyExc_IndexError, "candidate span outside the sentence");
            goto fail;
        }
        double old = window_ids(self, ids, size, first, last + 1 + 2);
        /* the local window: two words before, the new words, two after */
        Py_ssize_t left = first - 2 > 0 ? first - 2 : 0;
        Py_ssize_t tail = size - (last + 1) < 2 ? size - (last + 1) : 2;
        Py_ssize_t n_local = (first - left) + n_new + tail;
        if (n_local > local_cap) {
            int32_t *grown = PyMem_Realloc(local, n_local * sizeof(int32_t));
            if (grown == NULL) {
                PyMem_Free(fresh_ids);
                PyErr_NoMemory();
                goto fail;
            }
            local = grown;
            local_cap = n_local;
        }
        Py_ssize_t k = 0;
        for (Py_ssize_t i = left; i < first; i++)
            local[k++] = ids[i];
        for (Py_ssize_t i = 0; i < n_new; i++)
            local[k++] = fresh_ids[i];
        for (Py_ssize_t i = last + 1; i < last + 1 + tail; i++)
            local[k++] = ids[i];
        Py_ssize_t offset = first - left;
        double fresh = window_ids(self, local, n_local, offset, offset + n_new + 2);
        PyMem_Free(fresh_ids);
        double gain = fresh - old - length_penalty * (double)((last - first + 1) - n_new);
        PyObject *value = PyFloat_FromDouble(gain);
        if (value == NULL)
            goto fail;
        PyList_SET_ITEM(result, c, value);
    }
    PyMem_Free(local);
    PyMem_Free(ids);
    Py_DECREF(fast);
    return result;
fail:
    Py_XDECREF(result);
    PyMem_Free(local);
    PyMem_Free(ids);
    Py_DECREF(fast);
    return NULL;
}

/* ------------------------------------------------------------------ the beam */

typedef struct {
    int32_t h2, h1;
    double score;
    int32_t edit;  /* index into the edit arena, -1: no edit */
    int32_t order; /* insertion order, for a stable sort */
} Hyp;

typedef struct {
    Hyp *items;
    int32_t n, cap;
} Bucket;

typedef struct {
    int32_t parent, option;
} Edit;

typedef struct {
    Py_ssize_t first, last, n_new, offset; /* offset into the shared word array */
    double cost;
} Option;

static int push(Bucket *b, int32_t h2, int32_t h1, double score, int32_t edit)
{
    /* as Decoder.beam's push: a dict keyed by (h2, h1), keeping a key's first position */
    for (int32_t i = 0; i < b->n; i++) {
        Hyp *h = &b->items[i];
        if (h->h2 == h2 && h->h1 == h1) {
            if (score > h->score) {
                h->score = score;
                h->edit = edit;
            }
            return 0;
        }
    }
    if (b->n == b->cap) {
        int32_t cap = b->cap ? b->cap * 2 : 16;
        Hyp *grown = PyMem_Realloc(b->items, (size_t)cap * sizeof(Hyp));
        if (grown == NULL)
            return -1;
        b->items = grown;
        b->cap = cap;
    }
    b->items[b->n] = (Hyp){h2, h1, score, edit, b->n};
    b->n++;
    return 0;
}

static int by_score(const void *a, const void *b)
{
    /* sorted(..., key=-score) is stable: ties keep their insertion order */
    const Hyp *x = a, *y = b;
    if (x->score > y->score)
        return -1;
    if (x->score < y->score)
        return 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* beam(ids, options, width): Decoder.beam's search.  `options` is a list of
 * (first, last, new_ids, cost), each position's options in the order they are tried; returns
 * the indices of the best path's options, in order. */
static PyObject *Trigram_beam(Trigram *self, PyObject *args)
{
    PyObject *seq, *opts;
    Py_ssize_t width, n;
    if (!PyArg_ParseTuple(args, "OOn", &seq, &opts, &width))
        return NULL;
    PyObject *fast;
    int32_t *ids;
    if (ids_and_items(seq, opts, "options must be a sequence", &ids, &n, &fast) < 0)
        return NULL;
    Py_ssize_t n_opts = PySequence_Fast_GET_SIZE(fast);
    PyObject *result = NULL;
    Option *options = PyMem_Calloc(n_opts ? n_opts : 1, sizeof(Option));
    Py_ssize_t *order = PyMem_Calloc(n_opts ? n_opts : 1, sizeof(Py_ssize_t));
    Py_ssize_t *starts = PyMem_Calloc(n + 2, sizeof(Py_ssize_t));
    Bucket *buckets = PyMem_Calloc(n + 1, sizeof(Bucket));
    int32_t *words = NULL;
    Py_ssize_t n_words = 0;
    Edit *edits = NULL;
    Py_ssize_t n_edits = 0, cap_edits = 0;
    if (!options || !order || !starts || !buckets) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t o = 0; o < n_opts; o++) {
        PyObject *new_seq;
        Option *opt = &options[o];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, o), "nnOd", &opt->first, &opt->last,
                              &new_seq, &opt->cost))
            goto done;
        if (opt->first < 0 || opt->last < opt->first || opt->last >= n) {
            PyErr_SetString(PyExc_IndexError, "option span outside the sentence");
            goto done;
        }
        int32_t *fresh = as_ids(new_seq, &opt->n_new);
        if (fresh == NULL)
            goto done;
        int32_t *grown = PyMem_Realloc(words, (n_words + opt->n_new + 1) * sizeof(int32_t));
        if (grown == NULL) {
            PyMem_Free(fresh);
            PyErr_NoMemory();
            goto done;
        }
        words = grown;
        memcpy(words + n_words, fresh, opt->n_new * sizeof(int32_t));
        opt->offset = n_words;
        n_words += opt->n_new;
        PyMem_Free(fresh);
        starts[opt->first + 1]++;
    }
    /* options grouped by first position, in their given order (a stable counting sort) */
    for (Py_ssize_t p = 0; p <= n; p++)
        starts[p + 1] += starts[p];
    {
        Py_ssize_t *fill = PyMem_Calloc(n + 1, sizeof(Py_ssize_t));
        if (fill == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t o = 0; o < n_opts; o++) {
            Py_ssize_t p = options[o].first;
            order[starts[p] + fill[p]++] = o;
        }
        PyMem_Free(fill);
    }
    if (push(&buckets[0], self->bos, self->bos, 0.0, -1) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t pos = 0; pos < n; pos++) {
        Bucket *bucket = &buckets[pos];
        if (bucket->n > width) {
            qsort(bucket->items, bucket->n, sizeof(Hyp), by_score);
            bucket->n = (int32_t)width;
        }
        int32_t word = ids[pos];
        for (int32_t h = 0; h < bucket->n; h++) {
            Hyp hyp = bucket->items[h];
            double value = (hyp.h2 == self->bos && hyp.h1 == self->bos)
                               ? lookup(self, word, hyp.h1, 0, 1)
                               : lookup(self, word, hyp.h1, hyp.h2, 2);
            if (push(&buckets[pos + 1], hyp.h1, word, hyp.score + value, hyp.edit) < 0) {
                PyErr_NoMemory();
                goto done;
            }
            for (Py_ssize_t k = starts[pos]; k < starts[pos + 1]; k++) {
                Option *opt = &options[order[k]];
                double s2 = hyp.score + opt->cost;
                int32_t a = hyp.h2, b = hyp.h1;
                for (Py_ssize_t j = 0; j < opt->n_new; j++) {
                    int32_t w = words[opt->offset + j];
                    s2 += (a == self->bos && b == self->bos) ? lookup(self, w, b, 0, 1)
                                                             : lookup(self, w, b, a, 2);
                    a = b;
                    b = w;
                }
                if (n_edits == cap_edits) {
                    Py_ssize_t cap = cap_edits ? cap_edits * 2 : 256;
                    Edit *grown = PyMem_Realloc(edits, cap * sizeof(Edit));
                    if (grown == NULL) {
                        PyErr_NoMemory();
                        goto done;
                    }
                    edits = grown;
                    cap_edits = cap;
                }
                edits[n_edits] = (Edit){hyp.edit, (int32_t)order[k]};
                if (push(&buckets[opt->last + 1], a, b, s2, (int32_t)n_edits) < 0) {
                    PyErr_NoMemory();
                    goto done;
                }
                n_edits++;
            }
        }
        PyMem_Free(bucket->items);
        bucket->items = NULL;
        bucket->n = bucket->cap = 0;
    }
    {
        Bucket *last = &buckets[n];
        int32_t best_edit = -1;
        double best = 0.0;
        int found = 0;
        for (int32_t h = 0; h < last->n; h++) {
            Hyp *hyp = &last->items[h];
            double total = hyp->score + lookup(self, self->eos, hyp->h1, hyp->h2, 2);
            if (!found || total > best) {
                best = total;
                best_edit = hyp->edit;
                found = 1;
            }
        }
        Py_ssize_t length = 0;
        for (int32_t e = best_edit; e >= 0; e = edits[e].parent)
            length++;
        result = PyList_New(length);
        if (result == NULL)
            goto done;
        for (int32_t e = best_edit; e >= 0; e = edits[e].parent) {
            PyObject *index = PyLong_FromLong(edits[e].option);
            if (index == NULL) {
                Py_CLEAR(result);
                goto done;
            }
            PyList_SET_ITEM(result, --length, index);
        }
    }
done:
    if (buckets)
        for (Py_ssize_t p = 0; p <= n; p++)
            PyMem_Free(buckets[p].items);
    PyMem_Free(buckets);
    PyMem_Free(starts);
    PyMem_Free(order);
    PyMem_Free(options);
    PyMem_Free(words);
    PyMem_Free(edits);
    PyMem_Free(ids);
    Py_DECREF(fast);
    return result;
}

static PyMethodDef Trigram_methods[] = {
    {"wid", (PyCFunction)Trigram_wid, METH_O, "the model's id of a word (-1: not in it)"},
    {"prob", (PyCFunction)Trigram_prob, METH_VARARGS,
     "prob(w[, h1[, h2]]): ln P(w | h2 h1) (ids; h1 the newest), as NGramLM.value_of"},
    {"known", (PyCFunction)Trigram_known, METH_O, "known(w): NGramLM.known for a word id"},
    {"memo_stats", (PyCFunction)Trigram_memo_stats, METH_NOARGS,
     "(entries, longest probe distance) of the lookup memo"},
    {"window", (PyCFunction)Trigram_window, METH_VARARGS,
     "window(ids, start, end): NGramLM.window_logprob over word ids"},
    {"gains", (PyCFunction)Trigram_gains, METH_VARARGS,
     "gains(ids, [(first, last, new_ids)], length_penalty): Decoder.ngram_score for each"},
    {"beam", (PyCFunction)Trigram_beam, METH_VARARGS,
     "beam(ids, [(first, last, new_ids, cost)], width): Decoder.beam's chosen option indices"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TrigramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "unspin._trigram.Trigram",
    .tp_basicsize = sizeof(Trigram),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "pocketsphinx's trigram model read through its C API, with a memo over word ids",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Trigram_init,
    .tp_dealloc = (destructor)Trigram_dealloc,
    .tp_methods = Trigram_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "unspin._trigram",
    .m_doc = "The n-gram hot path in C (see the file's comment).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__trigram(void)
{
    if (PyType_Ready(&TrigramType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TrigramType);
    if (PyModule_AddObject(m, "Trigram", (PyObject *)&TrigramType) < 0) {
        Py_DECREF(&TrigramType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
