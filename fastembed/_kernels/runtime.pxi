# Threads and ISA selection.
import os
from libc.stdint cimport int64_t

cdef extern from "omp.h":
    void omp_set_num_threads(int n) nogil
    int omp_get_max_threads() nogil

cdef extern from "isa.h":
    ctypedef struct fe_isa_table:
        const char *name
    const fe_isa_table *fe_isa
    int fe_isa_select(const char *name) nogil


def set_num_threads(n):
    """Set the number of OpenMP threads the kernels use."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"num_threads must be a positive integer, got {n!r}")
    omp_set_num_threads(n)


def get_num_threads():
    """Number of OpenMP threads the kernels use (OMP_NUM_THREADS by default)."""
    return omp_get_max_threads()


def select_isa(name=None):
    """Use the "avx512", "avx2" or "baseline" kernels; None picks the best the CPU has."""
    cdef bytes encoded = (name or "").encode()
    status = fe_isa_select(encoded)
    if status == -1:
        raise ValueError(f"isa must be 'avx512', 'avx2' or 'baseline', got {name!r}")
    if status == -2:
        raise RuntimeError(f"isa={name!r} is not supported by this CPU")


def isa_name():
    """Name of the kernel set in use."""
    return fe_isa.name.decode()


try:
    select_isa(os.environ.get("FASTEMBED_ISA") or None)
except (ValueError, RuntimeError) as error:
    raise ImportError(f"FASTEMBED_ISA={os.environ['FASTEMBED_ISA']!r}: {error}") from None


from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec


cdef inline double _now_ns() noexcept nogil:
    """Monotonic time in ns (time.perf_counter_ns's clock, without its call)."""
    cdef timespec now
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1e9 + now.tv_nsec


# A call explores the choice not taken every so many calls; the interval
# doubles (up to FE_EXPLORE_MAX) each time exploring loses by more than a
# fifth, and is reset when it does not.
DEF FE_EXPLORE_MIN = 16
DEF FE_EXPLORE_MAX = 1024
# The choice taken costs the median of its last FE_RECENT times (an outlier,
# say a collection, does not flip it); the other, its last explored time (a
# wrong flip is undone within a few calls, a right one is kept).
DEF FE_RECENT = 8


cdef class TeamChoice:
    """Whether a piece of work (a training step) runs faster on the thread
    team or on the calling thread alone, learned from its times as it runs:
    enter() before it sets the calling thread's team for it, leave() after.

    On a VM the two vCPUs can sit on nearby cores (a cache line crosses in
    about 100 ns) or on distant ones (400 ns), and the host moves them. On
    distant ones the data the team's threads hand each other costs more
    than the team saves: a seed CNN step took 168 us on two nearby vCPUs,
    300 us on two distant ones and 234 us on one. Results do not depend on
    the choice (every kernel gives the same bits for any team size)."""
    cdef double recent[2][FE_RECENT]  # ns of the last calls of [team, alone]
    cdef int64_t seen[2]  # timed calls of [team, alone]
    cdef int64_t calls, interval
    cdef int alone, saved_threads

    def __cinit__(self):
        for choice in range(2):
            self.seen[choice] = 0
            for i in range(FE_RECENT):
                self.recent[choice][i] = 0.0
        self.calls = 0
        self.interval = FE_EXPLORE_MIN
        self.alone = 0

    cdef double cost(self, int choice):
        """Median of the choice's recent times (it has at least one)."""
        cdef int n = min(self.seen[choice], FE_RECENT), i, j
        cdef double times[FE_RECENT]
        cdef double t
        for i in range(n):  # insertion sort of the (few) recent times
            t = self.recent[choice][i]
            j = i
            while j > 0 and times[j - 1] > t:
                times[j] = times[j - 1]
                j -= 1
            times[j] = t
        return 0.5 * (times[(n - 1) // 2] + times[n // 2])

    def run(self, work, *args):
        """work(*args) on the team chosen, timed: enter, work, leave."""
        cdef int alone = self.enter()
        cdef double start = _now_ns()
        try:
            return work(*args)
        finally:
            self.leave(alone, _now_ns() - start)

    cpdef int enter(self):
        """This call's choice (1: alone), set for the calling thread's next regions."""
        self.saved_threads = omp_get_max_threads()
        if self.saved_threads == 1:
            return 0
        self.calls += 1
        cdef int alone = self.alone
        if self.calls % self.interval == 0 or self.seen[1 - alone] == 0:
            alone = 1 - alone
        if alone:
            omp_set_num_threads(1)
        return alone

    cpdef leave(self, int alone, double ns):
        """After the work entered with `alone`, which took ns nanoseconds."""
        if self.saved_threads == 1:
            return
        if alone:
            omp_set_num_threads(self.saved_threads)
        if alone != self.alone:  # an exploring call: forget the older explorations
            self.seen[alone] = 0
        self.recent[alone][self.seen[alone] % FE_RECENT] = ns
        self.seen[alone] += 1
        if not (self.seen[0] and self.seen[1]):
            return
        if alone != self.alone:  # an exploring call
            if ns > 1.2 * self.cost(self.alone):
                self.interval = min(2 * self.interval, FE_EXPLORE_MAX)
            else:
                self.interval = FE_EXPLORE_MIN
        self.alone = self.cost(1) < self.cost(0)
